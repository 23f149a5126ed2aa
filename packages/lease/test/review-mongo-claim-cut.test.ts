/**
 * A claim whose insert is cut by the network, on the shared FerretDB behind a proxy that resets
 * the connection at the insert (test/support/reply-cut-proxy.ts), both ways a connection drops:
 * `drop` — the insert never reaches the server; `cut` — the server applied it and the reply is
 * lost. The driver then rejects `insertMany` with a `MongoBulkWriteError` whose `writeErrors`
 * list is empty, which the store read as "every document inserted": `claimMany` answered
 * `claimed: true` for keys nobody held (drop), so a second delivery claimed them too and the
 * effect ran twice. The outcome of such an insert is unknown; the store must not answer it as
 * claimed. It answers as the Redis store answers a failed batch: it gives back whatever this
 * owner holds and throws `LeaseStoreUnavailableError` — `claim` the same as `claimMany`. So
 * after the throw every key is free for the next delivery, which claims it at the next fence.
 * `settleMany` read the same error the same way (answered settled, nothing written): it must
 * fail instead.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError, type ClaimResult } from '../src/index.js';
import { INSERT, proxiedMongo } from './support/proxied-mongo.js';

describe('mongoLeaseStore: a claim whose insert the network cuts (FerretDB behind a resetting proxy)', () => {
  const rig = proxiedMongo('lease_claim_cut');

  /** The call's outcome: its results, or its error. */
  async function settle<T>(call: Promise<T>): Promise<{ value?: T; error?: unknown }> {
    try {
      return { value: await call };
    } catch (error) {
      return { error };
    }
  }

  for (const mode of ['drop', 'cut'] as const) {
    const how = mode === 'drop' ? 'the insert never reached the server' : 'the server applied the insert and the reply was lost';
    for (const many of [true, false]) {
      const call = many ? 'claimMany' : 'claim';
      it(`${call}: ${how} → LEASE_STORE_UNAVAILABLE, nothing held by the owner, the next delivery claims every key at the next fence`, async () => {
        const { cutStore, check } = await rig.stores();
        const keys = many ? ['order-1', 'order-2', 'order-3'] : ['order-1'];
        const owner = `first-${randomUUID()}`;
        const requests = keys.map((key) => ({ key, owner, leaseMs: 60_000, data: 'delivery-1' }));
        const cutsBefore = rig.proxy.cuts;
        rig.proxy.on(INSERT, mode);
        const outcome = await settle<ClaimResult[]>(many ? cutStore.claimMany(requests) : cutStore.claim(requests[0]!).then((r) => [r]));
        expect(rig.proxy.cuts).toBe(cutsBefore + 1);

        // Never a claim the server does not hold: every key answered claimed is held by the owner, read straight from the server.
        if (outcome.value) {
          for (const [i, r] of outcome.value.entries()) {
            if (r.claimed) expect(await check.get(keys[i]!)).toMatchObject({ state: 'held', owner, fence: r.fence });
          }
        }
        // The store's answer to an unknown outcome: the typed unavailable error, the driver's error as its cause.
        expect(outcome.error).toBeInstanceOf(LeaseStoreUnavailableError);
        expect((outcome.error as LeaseStoreUnavailableError).code).toBe('LEASE_STORE_UNAVAILABLE');
        expect((outcome.error as LeaseStoreUnavailableError).retryable).toBe(true);

        // Given back: nothing is held by the failed owner, and the next delivery claims every key.
        for (const key of keys) expect(await check.get(key)).toBeUndefined();
        const second = await check.claimMany(keys.map((key) => ({ key, owner: `second-${randomUUID()}`, leaseMs: 60_000 })));
        for (const r of second) expect(r.claimed).toBe(true);
        // drop: nothing was written, fence 1; cut: generation 1 (ours) and 2 (its release) exist, fence 3.
        for (const r of second) expect(r.claimed && r.fence).toBe(mode === 'drop' ? 1 : 3);
      });
    }
  }

  // The same reading in the settle path: a settleMany whose insertMany never reached the server answered `true` for every key.
  it('settleMany: the insert never reached the server → LEASE_STORE_UNAVAILABLE, never "settled" for a record still held', async () => {
    const { cutStore, check } = await rig.stores();
    const keys = ['order-1', 'order-2', 'order-3'];
    const owner = `first-${randomUUID()}`;
    const claims = await cutStore.claimMany(keys.map((key) => ({ key, owner, leaseMs: 60_000 })));
    rig.proxy.on(INSERT, 'drop');
    const outcome = await settle(cutStore.settleMany(claims.map((c, i) => ({ key: keys[i]!, owner, fence: c.claimed ? c.fence : 0, data: 'sent', keepMs: 60_000 }))));
    if (outcome.value) for (const [i, ok] of outcome.value.entries()) if (ok) expect(await check.get(keys[i]!)).toMatchObject({ state: 'done', data: 'sent' });
    expect(outcome.error).toBeInstanceOf(LeaseStoreUnavailableError);
    for (const key of keys) expect(await check.get(key)).toMatchObject({ state: 'held', owner, fence: 1 });
  });
});
