/**
 * A document under a generation's `_id` (`<key>#<g>`) that is not that generation — no `k`
 * field, another key's `k`, another shape — is another program's: a claim whose insert of that
 * `_id` is refused as a duplicate cannot find it by the key's query, and read it as a racer's
 * generation round after round, answering "held by nobody" for good (a silent 409 loop). It is
 * `LEASE_RECORD_UNREADABLE` (terminal, a `ConfigurationError`), and the batch holds nothing.
 * On FerretDB (reads by `_id`, and by query only).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError } from '../src/index.js';
import { openBackend, token, type Backend } from './support/backends.js';

describe.each(['mongodb', 'mongodb-query'] as const)('a foreign document under a generation _id on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(name);
  }, 30_000);
  afterAll(async () => {
    await backend?.close();
  });

  const now = (): Date => new Date();
  const shapes: Array<[string, (key: string, g: number) => Record<string, unknown>]> = [
    ['without k', (key, g) => ({ _id: `${key}#${g}`, hello: 'world' })],
    ['with another key\'s k', (key, g) => ({ _id: `${key}#${g}`, k: `${key}:other`, g, s: 'h', o: 'x', e: now(), p: now(), c: now() })],
    ['with another generation', (key, g) => ({ _id: `${key}#${g}`, k: key, g: g + 7, s: 'h', o: 'x', e: now(), p: now(), c: now() })],
  ];

  it.each(shapes)('a fresh key whose #1 is a document %s: the claim is refused as unreadable, not held', async (_, doc) => {
    const key = `foreign-id:${randomUUID()}`;
    await backend.collection!.insertOne(doc(key, 1) as never);
    const error = await backend.store.claim({ key, owner: token(), leaseMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseRecordUnreadableError);
    expect(error).toMatchObject({ code: 'LEASE_RECORD_UNREADABLE', field: 'collection' });
    // Terminal: asked again, the same answer (not a "held" answer to retry).
    await expect(backend.store.claim({ key, owner: token(), leaseMs: 30_000 })).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
  });

  it('a key whose next generation _id is taken by a foreign document: refused, and the batch holds nothing', async () => {
    const key = `foreign-next:${randomUUID()}`;
    const fresh = `foreign-next-fresh:${randomUUID()}`;
    const ended = new Date(Date.now() - 1_000);
    // Generation 1 released a second ago (claimable); #2 is not the key's.
    await backend.collection!.insertMany([
      { _id: `${key}#1`, k: key, g: 1, s: 'f', o: 'a', e: ended, p: ended, c: ended } as never,
      { _id: `${key}#2`, note: 'not a lease' } as never,
    ]);
    const owner = token();
    await expect(backend.store.claimMany([{ key: fresh, owner, leaseMs: 30_000 }, { key, owner, leaseMs: 30_000 }])).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
    // What the batch claimed of the fresh key was given back: free for the next claim.
    expect(await backend.store.get(fresh)).toBeUndefined();
    expect(await backend.store.claim({ key: fresh, owner: token(), leaseMs: 30_000 })).toMatchObject({ claimed: true });
    expect(await backend.collection!.findOne({ _id: `${key}#2` as never })).toEqual({ _id: `${key}#2`, note: 'not a lease' });
  });
});
