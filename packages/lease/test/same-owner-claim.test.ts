/**
 * A claim finding the key held, live, by its own `owner` token (README, each store's section):
 * the Redis store answers it as its own — `claimed: true`, the fence and lease the key holds, for
 * the same `data` — because ioredis resends a command whose reply was lost, and that resend must
 * not read as "held by someone else" (review-resent-reply.test.ts). The MongoDB-wire, S3 and
 * memory stores answer `claimed: false` with the caller's own record (the S3 SDK's resend of a
 * PUT is recognised by its body instead: src/stores/review-s3-resend.test.ts). Pinned on every
 * store, so a change to either answer is a decision, not an accident.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_BACKENDS, key, openBackend, token, type Backend } from './support/backends.js';

describe.each(ALL_BACKENDS)('%s: a claim by the owner holding the key', (name) => {
  let backend: Backend | undefined;
  afterAll(async () => backend?.close());

  it(name === 'redis' || name === 'cluster' ? 'answers claimed (same data) with the same fence, refused with other data' : 'answers claimed: false with the caller\'s own record', async () => {
    backend = await openBackend(name);
    const k = key();
    const owner = token();
    const first = await backend.store.claim({ key: k, owner, leaseMs: 60_000, data: 'x' });
    if (!first.claimed) throw new Error('not claimed');
    const again = await backend.store.claim({ key: k, owner, leaseMs: 60_000, data: 'x' });
    const batch = await backend.store.claimMany([{ key: k, owner, leaseMs: 60_000, data: 'x' }]);
    const own = { claimed: false, record: expect.objectContaining({ state: 'held', owner, fence: first.fence, data: 'x' }) };
    if (name === 'redis' || name === 'cluster') {
      expect(again).toMatchObject({ claimed: true, fence: first.fence });
      expect(batch).toEqual([expect.objectContaining({ claimed: true, fence: first.fence })]);
    } else {
      expect(again).toEqual(own);
      expect(batch).toEqual([own]);
    }
    // Other data: another attempt reusing its token, refused everywhere.
    expect(await backend.store.claim({ key: k, owner, leaseMs: 60_000, data: 'y' })).toEqual(own);
  });
});
