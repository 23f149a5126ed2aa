/**
 * A settle sent again against a record settled before settled values kept their owner — the
 * shapes the Redis store wrote then, written here by hand: done `d|<g>|<retainMs>|<end>|=<data>`
 * (the owner field held the server's epoch ms when the record ends, its key's TTL the keep time
 * plus retainMs) and released `f|<g>|<retainMs>||` — answers as it does for the current shape:
 * `true` for generation fence + 1 with its data (or released), `false` otherwise. Before, the
 * owner check refused every such resend (the old value names no owner). A current-shape value
 * whose owner token is all digits is still judged by its owner.
 *
 * MongoDB-wire documents have named the settling owner (`o`) since the first release of the
 * store: there is no old shape there; the same resend against a hand-written done or released
 * document is checked on FerretDB for parity.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { token, useBackend } from './support/backends.js';

const RETAIN_MS = 3_600_000; // the store's default retainMs (the backends open with it)
const KEEP_MS = 60_000;

describe.each(['redis', 'cluster'] as const)('a settle sent again against an old-shape value on %s', (name) => {
  const backend = useBackend(name);

  /** The server's clock, epoch ms. */
  const serverNow = async (): Promise<number> => {
    const [s, us] = await backend.redis!.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  /** A key claimed by `owner`, then overwritten with `value(fence + 1)` and TTL `px` as the old settle wrote it. */
  const settledOld = async (value: (next: number, now: number) => string, px: number) => {
    const key = `old-shape:${randomUUID()}`;
    const owner = token();
    const claim = await backend.store.claim({ key, owner, leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    await backend.redis!.set(backend.prefix + key, value(claim.fence + 1, await serverNow()), 'PX', px);
    return { key, owner, fence: claim.fence };
  };

  it('a done value holding its end time: the resend with its data answers true, other data or fence false, nothing written', async () => {
    const { key, owner, fence } = await settledOld((g, now) => `d|${g}|${RETAIN_MS}|${now + KEEP_MS}|=result`, KEEP_MS + RETAIN_MS);
    const before = await backend.redis!.get(backend.prefix + key);
    const request = { key, owner, fence, data: 'result', keepMs: KEEP_MS };
    await expect(backend.store.get(key)).resolves.toMatchObject({ state: 'done', fence: fence + 1, data: 'result' });
    await expect(backend.store.settle(request)).resolves.toBe(true);
    await expect(backend.store.settleMany([request])).resolves.toEqual([true]);
    await expect(backend.store.settle({ ...request, data: 'other' })).resolves.toBe(false);
    await expect(backend.store.settle({ ...request, fence: fence + 1 })).resolves.toBe(false);
    await expect(backend.store.settle({ key, owner, fence })).resolves.toBe(false);
    expect(await backend.redis!.get(backend.prefix + key)).toBe(before);
  });

  it('a released value without an owner: the resend of the release answers true, a done settle false', async () => {
    const { key, owner, fence } = await settledOld((g) => `f|${g}|${RETAIN_MS}||`, RETAIN_MS);
    await expect(backend.store.settle({ key, owner, fence })).resolves.toBe(true);
    await expect(backend.store.settleMany([{ key, owner, fence }])).resolves.toEqual([true]);
    await expect(backend.store.settle({ key, owner, fence, data: 'result', keepMs: KEEP_MS })).resolves.toBe(false);
    await expect(backend.store.settle({ key, owner, fence: fence + 1 })).resolves.toBe(false);
  });

  it('a current-shape done value whose owner token is digits is judged by its owner, not taken for an end time', async () => {
    // Settled by owner '12345' (digits, not its end): another owner's resend is not its own.
    const { key, fence } = await settledOld((g) => `d|${g}|${RETAIN_MS}|12345|=result`, KEEP_MS + RETAIN_MS);
    await expect(backend.store.settle({ key, owner: '67890', fence, data: 'result', keepMs: KEEP_MS })).resolves.toBe(false);
    await expect(backend.store.settle({ key, owner: '12345', fence, data: 'result', keepMs: KEEP_MS })).resolves.toBe(true);
    // An end time that the TTL does not tell (a day off) is an owner token too.
    const other = await settledOld((g, now) => `d|${g}|${RETAIN_MS}|${now + KEEP_MS + 86_400_000}|=result`, KEEP_MS + RETAIN_MS);
    await expect(backend.store.settle({ key: other.key, owner: other.owner, fence: other.fence, data: 'result', keepMs: KEEP_MS })).resolves.toBe(false);
  });
});

describe('a settle sent again against a hand-written settled document on mongodb (parity; no old shape there)', () => {
  const backend = useBackend('mongodb');

  it.each([['done', 'result'] as const, ['released', undefined] as const])('%s by the same owner: true; by another owner or with other data: false', async (_, data) => {
    const key = `old-shape-mongo:${randomUUID()}`;
    const owner = token();
    const claim = await backend.store.claim({ key, owner, leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const t = new Date();
    const end = new Date(t.getTime() + (data === undefined ? 0 : KEEP_MS));
    const g = claim.fence + 1;
    await backend.collection!.insertOne({ _id: `${key}#${g}`, k: key, g, s: data === undefined ? 'f' : 'd', o: owner, ...(data === undefined ? {} : { d: data }), e: end, p: new Date(Math.max(end.getTime(), t.getTime() + 30_000)), c: t } as never);
    const request = { key, owner, fence: claim.fence, ...(data === undefined ? {} : { data, keepMs: KEEP_MS }) };
    // From another store (no grant: it reads the key first).
    await expect(backend.another().settle(request)).resolves.toBe(true);
    await expect(backend.another().settleMany([request])).resolves.toEqual([true]);
    await expect(backend.another().settle({ ...request, owner: token() })).resolves.toBe(false);
    if (data !== undefined) await expect(backend.another().settle({ ...request, data: 'other' })).resolves.toBe(false);
  });
});
