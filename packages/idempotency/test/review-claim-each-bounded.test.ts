/**
 * A batch whose one-call claim (`claimMany`) the store refused for a value it did not write is
 * claimed message by message (`claimEach`). A batch reaches 10,000 messages (an SQS standard
 * queue with a batching window, a stream): those claims run at most `CLAIMS_IN_FLIGHT` at once,
 * not all at once, and each message still gets its own claim's answer (the order kept: only the
 * message under the foreign value fails). Before, every claim was started at once. On the real
 * Redis server, through a store wrapper that counts the claims in flight.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { CLAIMS_IN_FLIGHT } from '../src/batch.js';
import { idempotency, scopeOf, storeKey, type IdempotencyStore } from '../src/index.js';
import { lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

/** `store` with its single claims counted: how many are in flight now, and the most at once. */
function inFlight(store: IdempotencyStore): IdempotencyStore & { most: number; claims: number } {
  let now = 0;
  const counted = Object.create(store) as IdempotencyStore & { most: number; claims: number };
  counted.most = 0;
  counted.claims = 0;
  counted.claim = async (request, options) => {
    counted.claims++;
    counted.most = Math.max(counted.most, ++now);
    try {
      return await store.claim(request, options);
    } finally {
      now--;
    }
  };
  return counted;
}

describe('claimEach on redis', () => {
  const backend = useBackend('redis');

  it(`claims a 200-message batch at most ${CLAIMS_IN_FLIGHT} at once, each message answered by its own claim`, async () => {
    const fname = `claim-each-${randomUUID()}`;
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const foreign = ids[137]!;
    await backend.redis!.set(backend.prefix + storeKey(scopeOf(fname), { kind: 'delivery', value: foreign }), 'hello');
    const store = inFlight(backend.store);
    const ran: string[] = [];
    const main = handler({ name: fname, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, (input) => {
      ran.push((input as { id: string }).id);
    });
    const res = (await main.aws({ Records: ids.map((id) => sqsRecord(id, { id })) }, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: foreign }]);
    expect(store.claims).toBe(ids.length);
    expect(store.most).toBeLessThanOrEqual(CLAIMS_IN_FLIGHT);
    // Still side by side, not one after another.
    expect(store.most).toBeGreaterThan(1);
    expect(ran.sort()).toEqual(ids.filter((id) => id !== foreign).sort());
  });
});
