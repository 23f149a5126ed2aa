/**
 * A key under the store's prefix that another program wrote — a string it did not write, or a
 * hash, list or set (`WRONGTYPE` for GET and SET) — is refused with `LeaseRecordUnreadableError`
 * and left alone, and a batch that meets one claims nothing: its other keys stay free. Before,
 * a batch script claimed the keys before the foreign one and then rejected (the caller never
 * learnt those fences, so they stayed held until their leases ran out), a non-string key
 * surfaced as a raw `WRONGTYPE` ReplyError, and a settle batch aborted half-way.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError } from '../src/index.js';
import { token, useBackend, type Backend } from './support/backends.js';

const FOREIGN = {
  string: (b: Backend, k: string) => b.redis!.set(k, "someone else's", 'PX', 60_000),
  hash: (b: Backend, k: string) => b.redis!.hset(k, 'f', 'v'),
  list: (b: Backend, k: string) => b.redis!.rpush(k, 'v'),
} as const;

describe.each(['redis', 'cluster'] as const)('foreign keys under the prefix on %s', (name) => {
  const backend = useBackend(name);

  it.each(Object.keys(FOREIGN) as Array<keyof typeof FOREIGN>)('a %s: every call refuses it or says it is not held, and it is left alone', async (kind) => {
    const foreign = `foreign:${randomUUID()}`;
    await FOREIGN[kind](backend, backend.prefix + foreign);
    const before = await backend.redis!.dump(backend.prefix + foreign);
    await expect(backend.store.claim({ key: foreign, owner: token(), leaseMs: 60_000 })).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    await expect(backend.store.get(foreign)).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    expect(await backend.store.settle({ key: foreign, owner: 'o', fence: 1 })).toBe(false);
    expect(await backend.store.renew({ key: foreign, owner: 'o', fence: 1, leaseMs: 1000 })).toEqual({ renewed: false });
    expect(await backend.redis!.dump(backend.prefix + foreign)).toEqual(before);
  });

  it.each(Object.keys(FOREIGN) as Array<keyof typeof FOREIGN>)('claimMany meeting a %s claims none of its keys; settleMany settles the others', async (kind) => {
    const run = randomUUID();
    // Keys on one slot (one script) and on others (other scripts, on a cluster).
    const keys = [`{${run}}a`, `{${run}}b`, `{${run}}c`, `${run}x`, `${run}y`];
    const foreign = `{${run}}b`;
    await FOREIGN[kind](backend, backend.prefix + foreign);
    const good = keys.filter((k) => k !== foreign);
    await expect(backend.store.claimMany(keys.map((key) => ({ key, owner: token(), leaseMs: 60_000 })))).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    for (const key of good) expect(await backend.store.get(key), key).toBeUndefined();
    // The good keys can be claimed at once by anyone; a settle batch with the foreign key in it settles the rest.
    const owners = good.map(() => token());
    const claims = await backend.store.claimMany(good.map((key, i) => ({ key, owner: owners[i]!, leaseMs: 60_000 })));
    expect(claims.map((c) => c.claimed)).toEqual(good.map(() => true));
    const settles = [...good.map((key, i) => ({ key, owner: owners[i]!, fence: (claims[i] as { fence: number }).fence, data: 'ok', keepMs: 60_000 })), { key: foreign, owner: 'o', fence: 1 }];
    expect(await backend.store.settleMany(settles)).toEqual([...good.map(() => true), false]);
  });
});
