/**
 * The Redis relay store's `begin` (see `redis.ts`): the heads of the leased aggregates within
 * the round's byte budget — one `BEGIN` on a single server; on a cluster the partitions' head
 * sizes first (`HEAD_SIZES`), the budget spent over them, then each partition's `BEGIN` — and
 * the parsing of the scripts' replies. A partition whose own key holds another type is refused
 * alone (`refused` heads), the others read.
 */
import pLimit from 'p-limit';
import type { AggregateHead, AggregateRef, LeasedRef, StoredEvent } from '../relay/types.js';
import { spendBudget } from '../relay/budget.js';
import { PreconditionFailedError } from '../errors.js';
import type { RedisLike } from './redis-client.js';
import { partitionKeys } from './redis-keys.js';
import { BEGIN, BEGIN_FIELDS, HEAD_SIZES, type RelayScript } from './redis-relay-scripts.js';

/** Runs one of the relay's scripts (`redis.ts`: an own key of another type refused as `PreconditionFailedError`). */
export type RunScript = (client: RedisLike, script: RelayScript, keys: string[], args: Array<string | number>, signal?: AbortSignal) => Promise<unknown>;

/**
 * Parses a BEGIN reply (`{ meta, body × events }`, see the script): one head per aggregate, in
 * order, and the body bytes the call read. The small fields come from one `JSON.parse`; each
 * body is the reply's string as the driver gave it.
 */
function readHeads(reply: unknown, refs: ReadonlyArray<AggregateRef>): { heads: AggregateHead[]; spent: number } {
  const parts = reply as unknown[];
  const meta = JSON.parse(String(parts[0])) as Array<string | number>;
  const heads: AggregateHead[] = [];
  let at = 0;
  let body = 1;
  for (const ref of refs) {
    const n = Number(meta[at++]);
    if (n === -1) {
      heads.push({ quarantined: true, events: [], more: false });
      continue;
    }
    const more = Number(meta[at++]) === 1;
    const events = new Array<StoredEvent>(n);
    const aggregateId = ref.aggregate.slice(ref.aggregate.indexOf('/') + 1);
    for (let j = 0; j < n; j++, at += BEGIN_FIELDS) {
      const streamId = String(meta[at]);
      const traceparent = meta[at + 6];
      const event: StoredEvent = {
        ref: streamId,
        seq: Number(meta[at + 1]),
        id: String(meta[at + 2]),
        body: String(parts[body++]),
        type: String(meta[at + 3]),
        started: Number(meta[at + 4]),
        finished: Number(meta[at + 5]),
        unjudged: Number(meta[at + 7]),
        aggregate: ref.aggregate,
        aggregateId,
        // The stream id's milliseconds part (the digits before its '-'): the commit time.
        committedAt: parseInt(streamId, 10),
      };
      if (traceparent) event.traceparent = String(traceparent);
      events[j] = event;
    }
    heads.push({ quarantined: false, events, more });
  }
  return { heads, spent: Number(meta[at]) };
}

/** Groups item indexes by what one script may touch: everything on one server, a partition on a cluster. */
export function groupsOf<T extends { ref: AggregateRef }>(items: ReadonlyArray<T>, cluster: boolean): number[][] {
  if (!cluster) return items.length === 0 ? [] : [items.map((_, i) => i)];
  const byTag = new Map<string, number[]>();
  items.forEach((item, i) => {
    const group = byTag.get(item.ref.where);
    if (group) group.push(i);
    else byTag.set(item.ref.where, [i]);
  });
  return [...byTag.values()];
}

/** The head of an aggregate whose partition's own key refused the read: nothing read or counted. */
function refusedHead(error: PreconditionFailedError): AggregateHead {
  return { quarantined: false, events: [], more: false, refused: { code: error.code, reason: error.message } };
}

/** Scripts of one read in flight at once on a cluster (ioredis pipelines them to their nodes). */
const READS_IN_FLIGHT = 16;

/** Runs `work` over `items`, at most `limit` at once (p-limit). */
function inFlight<T>(items: ReadonlyArray<T>, limit: number, work: (item: T) => Promise<void>): Promise<void[]> {
  const slot = pLimit(limit);
  return Promise.all(items.map((item) => slot(() => work(item))));
}

/**
 * The `begin` of the Redis relay store whose keys are under `prefix`, its scripts run by `run`:
 * `(client, items, limit, budget, signal)` gives one head per item, in order.
 */
export function redisBegin(prefix: string, run: RunScript): (client: RedisLike, items: ReadonlyArray<LeasedRef>, limit: number, budget: number, signal: AbortSignal | undefined) => Promise<AggregateHead[]> {
  /** One `BEGIN` over `group` with each aggregate's most events, `budget` bytes and `force` (see the script). */
  const beginGroup = async (client: RedisLike, items: ReadonlyArray<LeasedRef>, group: number[], limits: number[], budget: number, force: boolean, signal: AbortSignal | undefined): Promise<{ heads: AggregateHead[]; spent: number }> => {
    const keys: string[] = [];
    const args: Array<string | number> = [budget, force ? 1 : 0];
    group.forEach((i, j) => {
      const { ref } = items[i]!;
      const k = partitionKeys(prefix, ref.where);
      keys.push(k.aggregate(ref.aggregate), k.events, k.attempts, k.quarantine);
      args.push(ref.aggregate, limits[j]!);
    });
    return readHeads(await run(client, BEGIN, keys, args, signal), group.map((i) => items[i]!.ref));
  };

  /** Each aggregate's head sizes (`HEAD_SIZES`), one script per partition, at most `READS_IN_FLIGHT` at once; undefined: quarantined. */
  const headSizes = async (client: RedisLike, items: ReadonlyArray<LeasedRef>, groups: number[][], limit: number, signal: AbortSignal | undefined, refused: Map<number, PreconditionFailedError>): Promise<Array<number[] | undefined>> => {
    const sizes = new Array<number[] | undefined>(items.length);
    await inFlight(groups, READS_IN_FLIGHT, async (group) => {
      const keys: string[] = [];
      for (const i of group) {
        const k = partitionKeys(prefix, items[i]!.ref.where);
        keys.push(k.aggregate(items[i]!.ref.aggregate), k.events, k.quarantine);
      }
      let raw: unknown;
      try {
        raw = await run(client, HEAD_SIZES, keys, [limit, ...group.map((i) => items[i]!.ref.aggregate)], signal);
      } catch (error) {
        // This partition's own key of another type: its aggregates refused, the others read.
        if (!(error instanceof PreconditionFailedError)) throw error;
        for (const i of group) {
          refused.set(i, error);
          sizes[i] = [];
        }
        return;
      }
      const reply = (raw as unknown[]).map(Number);
      let at = 0;
      for (const i of group) {
        const n = reply[at++]!;
        sizes[i] = n === -1 ? undefined : reply.slice(at, (at += n));
      }
    });
    return sizes;
  };

  /**
   * The round's byte budget is spent round-robin over the items (see relay/budget.ts). On one server every
   * aggregate is in one script. On a cluster, where each partition is a script of its own, the
   * partitions' head sizes are read at once (`HEAD_SIZES`, no bodies), the budget is spent over
   * them, and each partition's `BEGIN` then reads its aggregates' planned counts, at once too —
   * two round trips however many partitions, at most `READS_IN_FLIGHT` scripts in flight, and
   * no more than the budget of bodies read (a `BEGIN` gets its planned bytes as its budget).
   */
  return async (client: RedisLike, items: ReadonlyArray<LeasedRef>, limit: number, budget: number, signal: AbortSignal | undefined): Promise<AggregateHead[]> => {
    const groups = groupsOf(items, client.isCluster);
    const out = new Array<AggregateHead>(items.length);
    if (groups.length <= 1) {
      for (const group of groups) {
        try {
          (await beginGroup(client, items, group, group.map(() => limit), budget, true, signal)).heads.forEach((head, j) => (out[group[j]!] = head));
        } catch (error) {
          // One partition's own key of another type refused the whole call (before it wrote
          // anything): each partition alone then, so only that one's aggregates are refused.
          if (!(error instanceof PreconditionFailedError)) throw error;
          let left = budget;
          let force = true;
          for (const part of groupsOf(group.map((i) => items[i]!), true).map((p) => p.map((j) => group[j]!))) {
            try {
              const { heads, spent } = await beginGroup(client, items, part, part.map(() => limit), left, force, signal);
              left -= spent;
              if (heads.some((h) => h.events.length > 0)) force = false;
              heads.forEach((head, j) => (out[part[j]!] = head));
            } catch (partError) {
              if (!(partError instanceof PreconditionFailedError)) throw partError;
              for (const i of part) out[i] = refusedHead(partError);
            }
          }
        }
      }
      return out;
    }
    const refused = new Map<number, PreconditionFailedError>();
    const sizes = await headSizes(client, items, groups, limit, signal, refused);
    const counts = spendBudget(sizes.map((s) => s ?? []), limit, budget);
    await inFlight(groups, READS_IN_FLIGHT, async (group) => {
      if (refused.has(group[0]!)) {
        for (const i of group) out[i] = refusedHead(refused.get(i)!);
        return;
      }
      if (group.every((i) => counts[i] === 0)) {
        // Nothing of it fits this round: quarantined ones say so; the others go first in the next.
        for (const i of group) out[i] = sizes[i] === undefined ? { quarantined: true, events: [], more: false } : { quarantined: false, events: [], more: sizes[i]!.length > 0 };
        return;
      }
      const planned = group.reduce((sum, i) => sum + sizes[i]!.slice(0, counts[i]).reduce((s, b) => s + b, 0), 0);
      try {
        const { heads } = await beginGroup(client, items, group, group.map((i) => counts[i]!), planned, false, signal);
        heads.forEach((head, j) => (out[group[j]!] = head));
      } catch (error) {
        if (!(error instanceof PreconditionFailedError)) throw error;
        for (const i of group) out[i] = refusedHead(error);
      }
    });
    return out;
  };
}
