/**
 * A batch call of the Redis store: one script call on a single server; one per cluster slot on
 * a cluster (a script touches one slot), sent together — and, for a slot the cluster refuses a
 * multi-key script on while it moves (`slotRefused`), one call per key.
 */
import { errorChain, redisKeyPrefix } from '@steadyfn/handler/internal';
import pLimit from 'p-limit';
import { clusterSlot } from './redis-slot.js';
import type { LuaScript } from './redis-eval.js';
import type { RedisLeaseClient } from './redis-types.js';

/** Sends one script call: `c` runs `s` over `keys` with `args`. */
export type ScriptSend = (c: RedisLeaseClient, s: LuaScript, keys: string[], args: string[], signal: AbortSignal | undefined) => Promise<unknown>;

/**
 * How many one-key calls of a refused slot (`slotRefused`) are in flight at once: a pipeline's
 * worth, as `@steadyfn/idempotency`'s one-by-one claims — a batch of 10,000 keys is not 10,000
 * commands queued on one connection at once.
 */
export const KEYS_IN_FLIGHT = 16;

/**
 * How long after a slot's multi-key call was refused (`slotRefused`) the store sends that slot's
 * batches key by key at once, without trying the multi-key call first (ms). ioredis answers a
 * refused call only after its own retries (`maxRedirections` × `retryDelayOnTryAgain`: up to
 * 1.6 s by default, ~1 s measured, ASK redirections counting too; both are options of the
 * user's client, none is per command), so during a reshard — seconds to minutes — only the
 * first batch of a slot in each window waits them out. After the move a
 * batch of that slot goes key by key until the window ends: more round trips, the same answers.
 */
export const REFUSED_SLOT_MS = 5_000;

/** The slots whose multi-key call a cluster refused in the last `REFUSED_SLOT_MS` (one per store). */
export interface RefusedSlots {
  has(slot: number): boolean;
  add(slot: number): void;
}

/** An empty `RefusedSlots` (at most 16,384 entries: one per slot; an entry lapses after `windowMs`). */
export function refusedSlots(windowMs = REFUSED_SLOT_MS): RefusedSlots {
  const until = new Map<number, number>();
  return {
    has(slot) {
      const end = until.get(slot);
      if (end === undefined) return false;
      if (performance.now() < end) return true;
      until.delete(slot);
      return false;
    },
    add(slot) {
      until.set(slot, performance.now() + windowMs);
    },
  };
}

/**
 * A cluster's refusal of a multi-key command for where its slot is, not for what it holds: the
 * script was not run. `TRYAGAIN` (the slot is being resharded — MIGRATING on the source,
 * IMPORTING on the target — and only some of the keys are on the node asked), and ioredis'
 * `Too many Cluster redirections` ending in `TRYAGAIN`, `ASK` or `MOVED` (it retried those until
 * `maxRedirections`), or `CROSSSLOT` (keys of two slots in one call). Found anywhere in the
 * error chain (`LeaseStoreUnavailableError` wraps the driver's error). Not a redirection count
 * that ran out on `CLUSTERDOWN` or a closed connection: a master that is down fails one-key
 * calls too. https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#multiple-keys-operations
 */
export function slotRefused(error: unknown): boolean {
  for (const e of errorChain(error)) {
    const message = typeof e.message === 'string' ? e.message : '';
    if (SLOT_REFUSALS.test(message)) return true;
  }
  return false;
}

// A reply's message starts with its error code; ioredis' message after retries ends with the last reply's (`ReplyError: …`).
const SLOT_REFUSALS = /^(?:TRYAGAIN|CROSSSLOT) |^Too many Cluster redirections\. Last error: (?:\w*Error: )?(?:TRYAGAIN|CROSSSLOT|ASK|MOVED) /;

/**
 * Runs `s` over `keys` (with `args[i]` for `keys[i]`) through `send`, and reads each key's
 * reply with `read`. On a cluster, when a slot's call fails, the others are still waited for
 * before the first failure is thrown: a batch claim that fails on one master gives back what it
 * claimed on the others (`giveBackClaims`) only once they have answered.
 *
 * A slot's call the cluster refused (`slotRefused`: the slot is moving) is sent again key by
 * key, at most `KEYS_IN_FLIGHT` at once: a one-key script follows `ASK` to the node that holds
 * its key, so the batch goes on working through a reshard (after ioredis' retries of the
 * refused call: about `maxRedirections` × `retryDelayOnTryAgain`, 1.6 s by default; a slot in
 * `refused` — refused within `REFUSED_SLOT_MS` — goes key by key at once, without that wait). The
 * refused call ran nothing, and every script of the store answers a call sent again as its
 * first run would have been (`redisLeaseStore`'s TSDoc), so a key its earlier try did write is
 * read, not taken twice. A one-key call that fails fails the batch, as the slot's call would have.
 */
export async function runBatch<T>(
  c: RedisLeaseClient,
  s: LuaScript,
  keys: string[],
  args: string[][],
  read: (reply: unknown, index: number) => T,
  signal: AbortSignal | undefined,
  send: ScriptSend,
  refused?: RefusedSlots,
): Promise<T[]> {
  if (keys.length === 0) return [];
  const call = async (callKeys: string[], callArgs: string[]): Promise<unknown[]> => (await send(c, s, callKeys, callArgs, signal)) as unknown[];
  if (!c.isCluster) {
    const replies = await call(keys, args.flat());
    return keys.map((_, i) => read(replies[i], i));
  }
  const bySlot = new Map<number, number[]>();
  // ioredis sends `keyPrefix + key` (Cluster: its own keyPrefix, or redisOptions.keyPrefix, which it copies there).
  const sent = redisKeyPrefix(c);
  keys.forEach((key, i) => {
    const slot = clusterSlot(sent + key);
    const group = bySlot.get(slot);
    if (group) group.push(i);
    else bySlot.set(slot, [i]);
  });
  let oneKey: ReturnType<typeof pLimit> | undefined;
  const byKey = (indexes: number[]): Promise<unknown[]> => {
    oneKey ??= pLimit(KEYS_IN_FLIGHT);
    const limit = oneKey;
    // Every call is awaited before a failure is thrown, as the slots' calls are.
    return Promise.allSettled(indexes.map((i) => limit(async () => (await call([keys[i]!], args[i]!))[0]))).then((settled) =>
      settled.map((outcome) => {
        if (outcome.status === 'rejected') throw outcome.reason;
        return outcome.value;
      }),
    );
  };
  const out = new Array<T>(keys.length);
  const calls = await Promise.allSettled(
    [...bySlot].map(async ([slot, indexes]) => {
      let replies: unknown[];
      if (indexes.length > 1 && refused?.has(slot)) replies = await byKey(indexes);
      else {
        try {
          replies = await call(indexes.map((i) => keys[i]!), indexes.flatMap((i) => args[i]!));
        } catch (error) {
          if (indexes.length === 1 || !slotRefused(error)) throw error;
          refused?.add(slot);
          replies = await byKey(indexes);
        }
      }
      indexes.forEach((index, j) => {
        out[index] = read(replies[j], index);
      });
    }),
  );
  const failed = calls.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) throw failed.reason;
  return out;
}
