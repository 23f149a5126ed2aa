/**
 * The Redis lease store's settles: `settle` (one key, `SETTLE_ONE` by its SHA1, straight from the
 * request) and `settleMany` (a batch, one call per slot), and the arguments a settle passes —
 * also to the settle fragment a sibling's script includes (`settleCall`).
 */
import { raceSignal as abortable } from '@steadyfn/handler/internal';
import type { CallOptions, SettleRequest } from '../types.js';
import { runBatch } from './redis-batch.js';
import type { RedisStoreContext } from './redis-context.js';
import { sendLuaScript } from './redis-eval.js';
import { SETTLE, SETTLE_ONE } from './redis-settle-scripts.js';
import type { RedisLeaseClient, RedisSettleCall } from './redis-types.js';
import { redisStoreError } from './redis-unavailable.js';
import { watchDropped } from './redis-unsent.js';

/** A settle's script arguments: owner, fence, `d` (done, its data and keep time) or `r` (released). */
export const settleArgs = (r: SettleRequest): RedisSettleCall['args'] =>
  r.data === undefined ? [r.owner, String(r.fence), 'r', '', '0'] : [r.owner, String(r.fence), 'd', r.data, String(r.keepMs)];

const settled = (reply: unknown): boolean => Number(reply) === 1;

/** The settles of one store. */
export interface RedisSettles {
  /** A batch of checked requests: one call per slot. */
  settleChecked(checked: SettleRequest[], callOptions?: CallOptions): Promise<boolean[]>;
  /** One checked request on client `c`. */
  settleOne(c: RedisLeaseClient, r: SettleRequest, callOptions: CallOptions | undefined): Promise<boolean>;
  /** One checked request on the getter's client: connect, then settle. */
  settleAfterConnect(r: SettleRequest, callOptions: CallOptions | undefined): Promise<boolean>;
}

/** The settles of the store `ctx` describes. */
export function redisSettles(ctx: RedisStoreContext): RedisSettles {
  const { redisKey, getClient, run, clientFor, refused } = ctx;

  const settleChecked = async (checked: SettleRequest[], callOptions?: CallOptions): Promise<boolean[]> => {
    const signal = callOptions?.signal;
    if (checked.length === 0) return [];
    const c = await clientFor(signal);
    return runBatch(c, SETTLE, checked.map((r) => redisKey(r.key)), checked.map(settleArgs), settled, signal, run, refused);
  };

  /** One settle: `SETTLE_ONE` by its SHA1, straight from the request (`EVAL` once per server, as the claim). */
  const settleOne = (c: RedisLeaseClient, r: SettleRequest, callOptions: CallOptions | undefined): Promise<boolean> => {
    const signal = callOptions?.signal;
    const args = [1, redisKey(r.key), ...settleArgs(r)];
    return sendLuaScript(c, SETTLE_ONE, args, signal, settled, redisStoreError);
  };

  // The getter awaited in place, not through `connected`: an async frame less on every call.
  const settleAfterConnect = async (r: SettleRequest, callOptions: CallOptions | undefined): Promise<boolean> => {
    let c: RedisLeaseClient;
    try {
      c = watchDropped(await abortable(Promise.resolve(getClient!()), callOptions?.signal));
    } catch (error) {
      throw redisStoreError(error);
    }
    return settleOne(c, r, callOptions);
  };

  return { settleChecked, settleOne, settleAfterConnect };
}
