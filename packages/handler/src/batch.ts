/**
 * A batch (SQS, Service Bus, Kafka feed): every message runs through the same onion, with the
 * batch hooks around all of them:
 *
 *   extend + validation (each message) → beforeBatch (in order) → batchOrder (unordered
 *   batches: each message) → each message's pipeline, lane by lane → afterBatch (reverse)
 *
 * A `beforeBatch` that throws fails every message with its error; their `onError` and
 * `finally`, and every plugin's `afterBatch`, still run.
 */
import { batchLanes, ordersBatches } from './batch-order.js';
import { createContext, pluginStates, runAs, takeColdStart, trackConcurrently, type InvocationContext } from './context.js';
import { Deadline, HookTimeoutError } from './deadline.js';
import { SteadyError, toSteadyError } from './errors.js';
import type { Definition, Frame, Invocation } from './invoke.js';
import { isThenable } from './pipeline-answer.js';
import { inputOf, runExtend, runPipeline, type Prepared } from './pipeline.js';
import type { Outcome } from './types.js';

/**
 * Raised for messages left unprocessed after an earlier message they are ordered after failed:
 * the rest of a FIFO batch, or the later messages of a `batchOrder` group.
 */
export class NotProcessedError extends SteadyError {
  override readonly name = 'NotProcessedError';
  constructor() {
    super('NOT_PROCESSED', 'Not processed because an earlier message it is ordered after failed', { status: 503, retryable: true });
  }
}

/** A message's `extend` hooks and validation, run before `beforeBatch` so batch hooks see ctx members and input. */
async function prepare(def: Definition, ctx: InvocationContext, inv: Invocation, deadline: Deadline): Promise<Prepared> {
  const prepared: Prepared = { entered: 0 };
  try {
    const states = pluginStates(ctx);
    while (prepared.entered < def.use.length) {
      const i = prepared.entered;
      const plugin = def.use[i]!;
      prepared.entered++;
      if (!plugin.extend) continue;
      const pending = runExtend(ctx, plugin, states[i], deadline);
      if (pending !== undefined) await pending;
    }
  } catch (thrown) {
    prepared.failed = { thrown };
    return prepared;
  }
  try {
    const value = await inputOf(def, inv, deadline);
    ctx.input = value;
    prepared.input = { ok: true, value };
  } catch (thrown) {
    prepared.input = { ok: false, thrown };
  }
  return prepared;
}

/** Each ctx's state of plugin `index` (undefined for a ctx whose state factory threw). */
function statesAt(ctxs: ReadonlyArray<InvocationContext>, index: number): unknown[] {
  return ctxs.map((ctx) => {
    try {
      return pluginStates(ctx)[index];
    } catch {
      return undefined;
    }
  });
}

/**
 * Runs each message of a batch. `ordered` (FIFO) runs them one by one and stops at the
 * first failure, reporting every later message as not processed so order is kept.
 * Otherwise messages run concurrently, except those a plugin's `batchOrder` puts in one group:
 * those run one by one in `seq` order, with the same stop rule within the group.
 */
export async function runBatch(def: Definition, frame: Frame, invs: ReadonlyArray<Invocation>, ordered: boolean): Promise<Outcome[]> {
  const deadline = new Deadline(frame.deadline, def.deadlineMarginMs, frame.signal);
  const coldStart = frame.coldStart ?? takeColdStart();
  // The batch's own lines carry the provider call's id and platform ids, as each message's do.
  const batchLog = def.logger.child({ fn: def.name ?? frame.functionName, provider: frame.provider, requestId: frame.requestId, coldStart });
  const log = frame.logFields === undefined ? batchLog : batchLog.child(frame.logFields);
  try {
    const ctxs = invs.map((inv) => createContext(def, frame, inv, deadline, coldStart));
    // Messages run side by side: each must find its own ctx.
    if (ctxs.length > 1) trackConcurrently();
    const grouped = !ordered && invs.length > 1 && ordersBatches(def);
    const batchHooks = grouped || def.use.some((p) => p.beforeBatch || p.afterBatch);
    let prepared: Prepared[] | undefined;
    if (batchHooks) {
      prepared = await Promise.all(ctxs.map((ctx, i) => runAs(ctx, prepare, def, ctx, invs[i]!, deadline)));
      let batchError: SteadyError | undefined;
      for (let i = 0; i < def.use.length && batchError === undefined; i++) {
        const plugin = def.use[i]!;
        if (!plugin.beforeBatch) continue;
        try {
          deadline.check();
          const result = plugin.beforeBatch(ctxs, statesAt(ctxs, i));
          if (isThenable(result)) await deadline.race(Promise.resolve(result));
        } catch (thrown) {
          batchError = toSteadyError(thrown);
          log.error('plugin beforeBatch hook failed', { plugin: plugin.name, code: batchError.code, batchSize: invs.length });
        }
      }
      // Nothing of the batch runs: every message fails with the same error and is redelivered.
      if (batchError) for (const p of prepared) p.batchError = batchError;
    }
    const runOne = (i: number, stopped?: SteadyError): Promise<Outcome> => {
      const ctx = ctxs[i]!;
      const own = prepared?.[i];
      if (own && stopped) {
        own.batchError ??= stopped;
        own.notRun = true;
      }
      return runAs(ctx, runPipeline, def, ctx, invs[i]!, deadline, own);
    };
    let outcomes: Outcome[];
    // A lane runs one by one and stops at its first failure: later messages are not processed.
    const runLane = async (lane: ReadonlyArray<number>): Promise<void> => {
      let stopped = false;
      for (const i of lane) {
        if (stopped) {
          // Extended messages still get their onError and finally (a claimed record is given back).
          outcomes[i] = prepared ? await runOne(i, new NotProcessedError()) : { ok: false, error: new NotProcessedError() };
          continue;
        }
        const outcome = await runOne(i);
        outcomes[i] = outcome;
        if (!outcome.ok && !acknowledgedFailure(def, outcome.error)) stopped = true;
      }
    };
    if (ordered) {
      outcomes = new Array<Outcome>(invs.length);
      await runLane(invs.map((_, i) => i));
    } else if (grouped && prepared) {
      outcomes = new Array<Outcome>(invs.length);
      await Promise.all((await batchLanes(def, ctxs, prepared, deadline)).map(runLane));
    } else {
      outcomes = await Promise.all(invs.map((_, i) => runOne(i)));
    }
    // Reverse order, as the onion unwinds; cleanup: cut off at the cleanup bound.
    for (let i = def.use.length - 1; i >= 0; i--) {
      const plugin = def.use[i]!;
      if (!plugin.afterBatch) continue;
      try {
        const result = plugin.afterBatch(ctxs, outcomes, statesAt(ctxs, i));
        if (isThenable(result)) await deadline.raceCleanup(Promise.resolve(result));
      } catch (hookError) {
        const cutOff = hookError instanceof HookTimeoutError;
        // The hook goes on running after the batch ends: it must not see a later invocation as its own.
        if (cutOff) trackConcurrently();
        const code = cutOff ? hookError.code : toSteadyError(hookError).code;
        log.warn('plugin afterBatch hook failed', { plugin: plugin.name, code });
      }
    }
    return outcomes;
  } finally {
    deadline.dispose();
  }
}

/**
 * Whether a message that failed with `error` is acknowledged (`terminalErrors: 'ack'`) rather than
 * reported failed: only a terminal error that is the message's own (invalid input, a
 * `TerminalError`: a 4xx status). A terminal error with a 5xx status is the deployment's, the
 * function's or its stores': a `ConfigurationError` — a missing or wrong option, a driver not
 * installed, credentials the server refuses (`CONNECTION_AUTH_FAILED`), a record another program
 * wrote (`LEASE_RECORD_UNREADABLE`) — is always status 500 (its constructor takes no status, and
 * no subclass sets one); an idempotency record another program wrote
 * (`IDEMPOTENCY_RECORD_CORRUPT`) or an invalid outbox event the function added is a 500 too.
 * Every message meets it until the deployment is fixed, so it stays reported failed and the
 * queue keeps the message for its redrive policy (dead-letter queue) instead of dropping every
 * message it sees. Decided by `status` alone, not by class: an error of another copy of
 * `@steadyfn/handler` (which `instanceof` may not know) is judged the same way.
 */
export function acknowledgedFailure(def: Pick<Definition, 'terminalErrors'>, error: SteadyError): boolean {
  return def.terminalErrors === 'ack' && !error.retryable && error.status < 500;
}
