/**
 * Review (try-to-break) finding on the MongoDB-wire store: a record is one document, and a
 * MongoDB document is at most 16 MiB of BSON. `data` had no limit: a claim or settle with data
 * past what one document holds failed with whatever the driver or server said — on FerretDB,
 * past 17 MiB, a bare `RangeError [ERR_OUT_OF_RANGE]: The value of "offset" is out of range`
 * from the BSON serializer (no code, nothing naming the field); on MongoDB a server error for
 * anything past 16 MiB that FerretDB stores. (The idempotency plugin keeps its results under
 * its own limit; the outbox relay, backup checkpoints and direct users of the lease do not.)
 * Such data must be refused before anything is sent, as a `LeaseRequestError` naming the
 * field, with the store's `maxDataBytes` (UTF-8 bytes) stored and read back intact. On the
 * shared FerretDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { key, openBackend, token, type Backend } from './support/backends.js';

/** 16 MiB less 16 KiB: what a document leaves for `data` beside a 1,024-character key (twice), the owner and dates. */
const MAX_DATA_BYTES = 16 * 1024 * 1024 - 16 * 1024;
const tooBig = 'x'.repeat(17 * 1024 * 1024);

/** What `call` rejected with (fails the test when it resolved). */
async function rejection(call: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await call;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('MongoDB-wire store: data past one document', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('mongodb');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('a claim with too much data is a LeaseRequestError naming request.data; the key stays free', async () => {
    const k = key();
    const error = await rejection(backend.store.claim({ key: k, owner: token(), leaseMs: 30_000, data: tooBig }));
    expect(error).toMatchObject({ name: 'LeaseRequestError', code: 'LEASE_REQUEST_INVALID', field: 'request.data', retryable: false });
    expect(String(error.message)).toContain(String(MAX_DATA_BYTES));
    expect(await backend.store.get(k)).toBeUndefined();
    expect(await backend.store.claim({ key: k, owner: token(), leaseMs: 30_000 })).toMatchObject({ claimed: true, fence: 1 });
  });

  it('a claimMany with one such request claims none, naming requests[1].data', async () => {
    const small = key();
    const big = key();
    const error = await rejection(
      backend.store.claimMany([
        { key: small, owner: token(), leaseMs: 30_000, data: 'ok' },
        { key: big, owner: token(), leaseMs: 30_000, data: tooBig },
      ]),
    );
    expect(error).toMatchObject({ code: 'LEASE_REQUEST_INVALID', field: 'requests[1].data' });
    expect(await backend.store.get(small)).toBeUndefined();
    expect(await backend.store.get(big)).toBeUndefined();
  });

  it('bytes are counted, not characters: data under the limit in characters and over it in UTF-8 is refused', async () => {
    const accents = 'é'.repeat(MAX_DATA_BYTES / 2 + 1);
    expect(accents.length).toBeLessThan(MAX_DATA_BYTES);
    const error = await rejection(backend.store.claim({ key: key(), owner: token(), leaseMs: 30_000, data: accents }));
    expect(error).toMatchObject({ code: 'LEASE_REQUEST_INVALID', field: 'request.data' });
  });

  it('a batch claim of maxDataBytes under the longest key (1,024 three-byte characters) fits one document', async () => {
    const k = '€'.repeat(1024);
    const owner = token();
    const largest = 'z'.repeat(MAX_DATA_BYTES);
    const [claim] = await backend.store.claimMany([{ key: k, owner, leaseMs: 60_000, data: largest }]);
    expect(claim).toMatchObject({ claimed: true, fence: 1 });
    expect((await backend.store.get(k))?.data === largest).toBe(true);
  }, 60_000);

  it('a settle with too much data is refused and leaves the holder holding; maxDataBytes itself is stored and read back', async () => {
    expect(backend.mongoStore!.maxDataBytes).toBe(MAX_DATA_BYTES);
    const k = key().padEnd(1024, 'k');
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const error = await rejection(backend.store.settle({ key: k, owner, fence: claim.fence, data: tooBig, keepMs: 60_000 }));
    expect(error).toMatchObject({ code: 'LEASE_REQUEST_INVALID', field: 'request.data' });
    expect(await backend.store.get(k)).toMatchObject({ state: 'held', fence: claim.fence, owner });
    const largest = 'y'.repeat(MAX_DATA_BYTES);
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data: largest, keepMs: 60_000 })).toBe(true);
    const done = await backend.store.get(k);
    expect(done?.state).toBe('done');
    expect(done?.data === largest).toBe(true);
  }, 60_000);
});
