/**
 * A settle or renewal whose next generation's `_id` (`<key>#<fence + 1>`) is taken by a document
 * the lease store did not write (no `k`, another key's, another generation's) meets another
 * program's record, not a takeover: it is `LEASE_RECORD_UNREADABLE` (terminal, a
 * `ConfigurationError`), as a claim meeting one is (`review-mongo-foreign-id.test.ts`). Before,
 * the refused insert answered `false` / `renewed: false` — "taken over" — on the settle without
 * a read (right after this store's claim) and on every settle read by query. On FerretDB, by
 * `_id` and by query, from the claiming store and from another store (no grant: a read first).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError, type LeaseStore } from '../src/index.js';
import { token, useBackend } from './support/backends.js';

describe.each(['mongodb', 'mongodb-query'] as const)('a foreign document at the next generation _id on %s', (name) => {
  const backend = useBackend(name);

  const now = (): Date => new Date();
  const shapes: Array<[string, (key: string, g: number) => Record<string, unknown>]> = [
    ['without k', (key, g) => ({ _id: `${key}#${g}`, hello: 'world' })],
    ["with another key's k", (key, g) => ({ _id: `${key}#${g}`, k: `${key}:other`, g, s: 'd', o: 'x', d: 'r', e: now(), p: now(), c: now() })],
    ['with another generation', (key, g) => ({ _id: `${key}#${g}`, k: key, g: g + 7, s: 'd', o: 'x', d: 'r', e: now(), p: now(), c: now() })],
  ];
  const callers: Array<[string, () => LeaseStore]> = [
    ['the claiming store (no read)', () => backend.store],
    ['another store (read first)', () => backend.another()],
  ];

  /** A key claimed by `owner` whose next generation's `_id` holds `doc`. */
  const claimedBelowForeign = async (doc: (key: string, g: number) => Record<string, unknown>) => {
    const key = `foreign-next-change:${randomUUID()}`;
    const owner = token();
    const claim = await backend.store.claim({ key, owner, leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const foreign = doc(key, claim.fence + 1);
    await backend.collection!.insertOne(foreign as never);
    return { key, owner, fence: claim.fence, foreign };
  };

  describe.each(callers)('settled or renewed by %s', (_, store) => {
    it.each(shapes)('a document %s: settle, settleMany and renew are refused as unreadable, and it is left alone', async (_, doc) => {
      for (const data of ['result', undefined]) {
        const { key, owner, fence, foreign } = await claimedBelowForeign(doc);
        const settle = { key, owner, fence, ...(data === undefined ? {} : { data, keepMs: 30_000 }) };
        const error = await store().settle(settle).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LeaseRecordUnreadableError);
        expect(error).toMatchObject({ code: 'LEASE_RECORD_UNREADABLE', field: 'collection' });
        // Terminal: asked again, the same answer (not "taken over").
        await expect(store().settle(settle)).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
        await expect(store().settleMany([settle])).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
        await expect(store().renew({ key, owner, fence, leaseMs: 30_000 })).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
        expect(await backend.collection!.findOne({ _id: foreign._id as never })).toEqual(foreign);
      }
    });
  });

  it('a real takeover at the next generation still answers false (not unreadable)', async () => {
    const key = `foreign-next-takeover:${randomUUID()}`;
    const owner = token();
    const claim = await backend.store.claim({ key, owner, leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const t = now();
    // Generation fence + 1 written as the store writes it, by another owner.
    await backend.collection!.insertOne({ _id: `${key}#${claim.fence + 1}`, k: key, g: claim.fence + 1, s: 'h', o: token(), e: new Date(t.getTime() + 30_000), p: new Date(t.getTime() + 30_000), c: t } as never);
    await expect(backend.store.settle({ key, owner, fence: claim.fence, data: 'r', keepMs: 30_000 })).resolves.toBe(false);
    await expect(backend.another().settle({ key, owner, fence: claim.fence })).resolves.toBe(false);
    await expect(backend.store.renew({ key, owner, fence: claim.fence, leaseMs: 30_000 })).resolves.toEqual({ renewed: false });
  });
});
