/**
 * Order within an unordered batch (a standard SQS queue): plugins' `batchOrder` put messages
 * into groups (an aggregate). A batch runs as lanes — each lane's messages one after another,
 * the lanes side by side: a group is one lane sorted by `seq`, every other message a lane of
 * its own. A FIFO batch is a single lane in arrival order.
 */
import { pluginStates, runAs, type InvocationContext } from './context.js';
import type { Deadline } from './deadline.js';
import { toSteadyError } from './errors.js';
import type { Definition } from './invoke.js';
import { isThenable } from './pipeline-answer.js';
import type { Prepared } from './pipeline.js';
import type { BatchOrder } from './types.js';

/** Whether a plugin of `def` groups the messages of unordered batches. */
export function ordersBatches(def: Definition): boolean {
  return def.use.some((p) => p.batchOrder !== undefined);
}

function isBatchOrder(value: unknown): value is BatchOrder {
  if (typeof value !== 'object' || value === null) return false;
  const { group, seq } = value as { group?: unknown; seq?: unknown };
  return typeof group === 'string' && group !== '' && (seq === undefined || (typeof seq === 'number' && Number.isFinite(seq)));
}

/** The first plugin's answer for one message; undefined: the message runs on its own. */
async function orderOf(def: Definition, ctx: InvocationContext, deadline: Deadline): Promise<BatchOrder | undefined> {
  const states = pluginStates(ctx);
  for (let i = 0; i < def.use.length; i++) {
    const plugin = def.use[i]!;
    if (!plugin.batchOrder) continue;
    try {
      deadline.check();
      const answer = plugin.batchOrder(ctx, states[i]);
      const order: unknown = isThenable(answer) ? await deadline.race(Promise.resolve(answer)) : answer;
      if (order === undefined) continue;
      if (isBatchOrder(order)) return order;
      ctx.log.warn('plugin batchOrder answer ignored: the message runs on its own', { plugin: plugin.name, expected: '{ group: non-empty string, seq?: finite number }' });
    } catch (thrown) {
      ctx.log.warn('plugin batchOrder hook failed: the message runs on its own', { plugin: plugin.name, code: toSteadyError(thrown).code });
    }
    return undefined;
  }
  return undefined;
}

/** Ascending `seq`; messages without one after those with one (the sort is stable: arrival order). */
function bySeq(a: BatchOrder, b: BatchOrder): number {
  if (a.seq === undefined) return b.seq === undefined ? 0 : 1;
  return b.seq === undefined ? -1 : a.seq - b.seq;
}

/**
 * The lanes of an unordered batch whose plugins group messages. A message that already failed
 * (its `extend` or validation, or `beforeBatch`) is not asked about and runs on its own.
 */
export async function batchLanes(def: Definition, ctxs: ReadonlyArray<InvocationContext>, prepared: ReadonlyArray<Prepared>, deadline: Deadline): Promise<number[][]> {
  const orders = await Promise.all(
    ctxs.map((ctx, i) => {
      const own = prepared[i]!;
      if (own.failed || own.batchError || !own.input?.ok) return undefined;
      return runAs(ctx, orderOf, def, ctx, deadline);
    }),
  );
  const lanes: number[][] = [];
  const groups = new Map<string, number[]>();
  orders.forEach((order, i) => {
    if (!order) {
      lanes.push([i]);
      return;
    }
    let lane = groups.get(order.group);
    if (!lane) {
      lane = [];
      groups.set(order.group, lane);
      lanes.push(lane);
    }
    lane.push(i);
  });
  for (const lane of groups.values()) lane.sort((a, b) => bySeq(orders[a]!, orders[b]!));
  return lanes;
}
