/**
 * The six operations every lease store has, called once each with one key, owner and data, for
 * the tests that check what each operation answers (an unreachable server: store-unavailable,
 * mongo-store-unavailable, s3-unavailable), and `failure`: a call's error.
 */
import type { LeaseStore } from '../../src/index.js';

/** The values an operation sends, which a message must never carry. */
export interface Secrets {
  key: string;
  owner: string;
  data: string;
}

/** `[name, call]` for claim, claimMany, settle, settleMany, renew and get of `store`. */
export function leaseOperations(store: LeaseStore, { key, owner, data }: Secrets): Array<[string, () => Promise<unknown>]> {
  return [
    ['claim', () => store.claim({ key, owner, leaseMs: 5_000, data })],
    ['claimMany', () => store.claimMany([{ key, owner, leaseMs: 5_000 }])],
    ['settle', () => store.settle({ key, owner, fence: 1, data, keepMs: 5_000 })],
    ['settleMany', () => store.settleMany([{ key, owner, fence: 1 }])],
    ['renew', () => store.renew({ key, owner, fence: 1, leaseMs: 5_000 })],
    ['get', () => store.get(key)],
  ];
}

/** Runs `calls` one after another: each name with its outcome, `{ value }` or the error. */
export async function outcomes(calls: Array<[string, () => Promise<unknown>]>): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = [];
  for (const [name, call] of calls) out.push([name, await call().then((value) => ({ value }), (err: unknown) => err)]);
  return out;
}

/** The call's error; throws when the call does not throw. */
export async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('the call did not throw');
}
