/**
 * MongoDB-wire store (FerretDB): a settle sent again while its first send is still on its way
 * answers what it did. The first send (the no-read path: this store granted the lease moments
 * ago) is slow on the wire; the caller gives it up (its signal aborts: to it the store was
 * unavailable) and settles again. The retry reads the key — still generation n, held by this
 * owner — and inserts generation n + 1; the first send lands just before it, so the retry's
 * insert is refused as a duplicate `_id`. Before, a refused insert was only checked for another
 * program's document and answered `false` ("not held") — though the key is exactly what the
 * settle makes of it, by its owner, as when the retry's read already sees the first send (then
 * it answers `true`). Now the refused `_id`, read back, is judged as that read would judge it:
 * `true`; a takeover's generation (held by another owner) is still `false`. The collection is
 * the real driver's, its inserts delayed to model the slow link.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoLeaseStore, type MongoLeaseStore } from '../src/index.js';
import { nextGeneration } from '../src/stores/mongodb-docs.js';
import { openBackend, token, type Backend } from './support/backends.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a Mongo settle whose first send lands while it is sent again', () => {
  let backend: Backend;
  let slow: { store: MongoLeaseStore; delayMs: number };
  beforeAll(async () => {
    backend = await openBackend('mongodb');
    const real = backend.collection!;
    // The real collection, every insert held `delayMs` on its way (one per call: a slow link).
    const collection = new Proxy(real, {
      get(target, name) {
        if (name !== 'insertOne' && name !== 'insertMany') return Reflect.get(target, name);
        const insert = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          const delay = slow.delayMs;
          if (delay > 0) await sleep(delay);
          return insert.apply(target, args);
        };
      },
    });
    slow = { store: mongoLeaseStore({ collection }), delayMs: 0 };
  }, 30_000);
  afterAll(async () => {
    await backend?.close();
  });

  for (const data of ['result', undefined]) {
    it(`the retry's insert refused by the first send's generation: true (${data === undefined ? 'release' : 'done'})`, async () => {
      const { store } = slow;
      const key = `lands-late:${randomUUID()}`;
      const owner = token();
      const claim = await store.claim({ key, owner, leaseMs: 30_000 });
      if (!claim.claimed) throw new Error('not claimed');
      const request = { key, owner, fence: claim.fence, ...(data === undefined ? {} : { data, keepMs: 30_000 }) };
      slow.delayMs = 400;
      const controller = new AbortController();
      const first = store.settle(request, { signal: controller.signal });
      await sleep(50);
      controller.abort(new Error('the caller gave up'));
      await expect(first).rejects.toThrow();
      // Sent again at once: its read finds generation n (the first send not landed yet), its insert lands after the first's.
      await expect(store.settle(request)).resolves.toBe(true);
      slow.delayMs = 0;
      // What the key holds is that settle's: done with its data, or released.
      const record = await store.get(key);
      if (data === undefined) expect(record).toBeUndefined();
      else expect(record).toMatchObject({ state: 'done', data, fence: claim.fence + 1 });
    });
  }

  it("a takeover's generation refusing the insert is still false", async () => {
    const { store } = slow;
    const key = `lands-late-takeover:${randomUUID()}`;
    const owner = token();
    const claim = await store.claim({ key, owner, leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    // Generation n + 1 written held by another owner (a takeover), landing between the settle's read and its insert.
    slow.delayMs = 300;
    const other = token();
    const settle = store.settle({ key, owner, fence: claim.fence, data: 'result', keepMs: 30_000 });
    await backend.collection!.insertOne(nextGeneration(key, claim.fence, 0, { s: 'h', o: other }, Date.now() + 30_000, Date.now()) as never);
    await expect(settle).resolves.toBe(false);
    slow.delayMs = 0;
  });
});
