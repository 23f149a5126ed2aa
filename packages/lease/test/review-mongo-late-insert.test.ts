/**
 * rvl D5: a claim whose insert is answered after a freeze — more than DELIVERY_MS (20 s) after
 * it was sent, or after its lease has already ended — answered `claimed: true`, with an
 * `expiresAt` in the past in the second case (the reviewer held the insert 62 s). The timing
 * rules assume a request reaches the server within DELIVERY_MS, so such an insert may have won a
 * generation that existed before: the claim now gives it back (the next generation, released)
 * and reads the key again, claiming it at the fence after that with a fresh lease.
 * Real FerretDB; the collection is wrapped so that one armed `insertOne` is answered late (it
 * lands, then its answer is held). The bound is lowered for the first case through
 * `claimTiming` (production: DELIVERY_MS); the second case uses the production bound.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { mongoLeaseStore } from '../src/index.js';
import { claimTiming } from '../src/stores/mongodb-claim.js';
import { DELIVERY_MS } from '../src/stores/mongodb-timing.js';
import { useBackend } from './support/backends.js';

/** `collection`, whose next `insertOne` after `arm(ms)` is answered `ms` after it lands. */
function lateAnswers(collection: Collection): { collection: Collection; arm(ms: number): void } {
  let holdMs = 0;
  const wrapped = new Proxy(collection, {
    get(target, prop) {
      if (prop === 'insertOne') {
        return async (...args: Parameters<Collection['insertOne']>) => {
          const hold = holdMs;
          holdMs = 0;
          const result = await target.insertOne(...args);
          if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
          return result;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { collection: wrapped, arm: (ms) => (holdMs = ms) };
}

describe('mongoLeaseStore: a claim whose insert is answered late (FerretDB, a held answer)', () => {
  const backend = useBackend('mongodb');
  afterEach(() => {
    claimTiming.deliveryMs = DELIVERY_MS;
  });

  it('answered more than the delivery bound after it was sent: given back and claimed again at the next fence, not reported', async () => {
    const held = lateAnswers(backend.collection!);
    const store = mongoLeaseStore({ collection: held.collection });
    await store.probe();
    claimTiming.deliveryMs = 300;
    const key = `late-${randomUUID()}`;
    held.arm(600);
    const result = await store.claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    // Generation 1 (answered late) was released as generation 2; the claim holds generation 3.
    expect(result).toMatchObject({ claimed: true, fence: 3 });
    expect(await store.get(key)).toMatchObject({ state: 'held', fence: 3 });
  });

  it('answered after its lease ended (production bound): never claimed with an expiresAt in the past', async () => {
    expect(claimTiming.deliveryMs).toBe(DELIVERY_MS);
    const held = lateAnswers(backend.collection!);
    const store = mongoLeaseStore({ collection: held.collection });
    await store.probe();
    const key = `late-${randomUUID()}`;
    held.arm(1_500);
    const result = await store.claim({ key, owner: randomUUID(), leaseMs: 1_000 });
    const answeredAt = Date.now();
    expect(result).toMatchObject({ claimed: true, fence: 3 });
    expect((result as { expiresAt: number }).expiresAt).toBeGreaterThan(answeredAt);
  });
});
