/** The LeaseStore contract, on the memory store and on each real server. */
import { describe, expect, it } from 'vitest';
import { LeaseRequestError } from '../src/index.js';
import { ALL_BACKENDS, eventually, key, token, useBackend } from './support/backends.js';

describe.each(ALL_BACKENDS)('%s lease store', (name) => {
  const backend = useBackend(name);

  it('claims a free key; a rival sees the holder, its fence and data', async () => {
    const k = key();
    const owner = token();
    const first = await backend.store.claim({ key: k, owner, leaseMs: 10_000, data: 'fp-A' });
    expect(first).toMatchObject({ claimed: true, fence: 1 });
    if (!first.claimed) throw new Error('unreachable');
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 8_000);
    expect(first.expiresAt).toBeLessThanOrEqual(Date.now() + 10_000);
    const rival = await backend.another().claim({ key: k, owner: token(), leaseMs: 10_000, data: 'fp-B' });
    expect(rival).toEqual({ claimed: false, record: { state: 'held', fence: 1, owner, expiresAt: expect.any(Number), data: 'fp-A' } });
    expect(await backend.store.get(k)).toMatchObject({ state: 'held', fence: 1, owner, data: 'fp-A' });
  });

  it('a claim without data holds no data; data may be empty text', async () => {
    const none = key();
    const empty = key();
    await backend.store.claim({ key: none, owner: token(), leaseMs: 10_000 });
    await backend.store.claim({ key: empty, owner: token(), leaseMs: 10_000, data: '' });
    expect(await backend.store.get(none)).not.toHaveProperty('data');
    expect(await backend.store.get(empty)).toMatchObject({ data: '' });
    // Data is opaque: separators, a leading '=', any Unicode.
    const odd = key();
    const data = '=h|1|2|owner|=data ü 🚀 \u0001\n';
    const claim = await backend.store.claim({ key: odd, owner: 'o', leaseMs: 10_000, data });
    expect(await backend.store.get(odd)).toMatchObject({ state: 'held', data });
    expect(await backend.store.settle({ key: odd, owner: 'o', fence: (claim as { fence: number }).fence, data, keepMs: 60_000 })).toBe(true);
    expect(await backend.store.get(odd)).toMatchObject({ state: 'done', data });
  });

  it('settles only for the owner at the claimed fence; done is kept and read back', async () => {
    const k = key();
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 10_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.settle({ key: k, owner: token(), fence: claim.fence, data: 'x', keepMs: 60_000 })).toBe(false);
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence + 1, data: 'x', keepMs: 60_000 })).toBe(false);
    expect(await backend.store.get(k)).toMatchObject({ state: 'held', owner });
    const data = '{"k":"v","v":1}|with|bars and\nlines';
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data, keepMs: 60_000 })).toBe(true);
    const done = await backend.store.get(k);
    expect(done).toEqual({ state: 'done', fence: claim.fence + 1, expiresAt: expect.any(Number), data });
    expect(done!.expiresAt).toBeGreaterThan(Date.now() + 50_000);
    // Done is nobody's: not claimable, not settled again.
    const blocked = await backend.store.claim({ key: k, owner: token(), leaseMs: 10_000 });
    expect(blocked).toEqual({ claimed: false, record: { ...done, expiresAt: expect.any(Number) } });
    // Each read converts the store's clock again: the same moment, give or take the round trip
    // (on S3 also the Date header's 1 s resolution: two readings narrow the offset differently).
    const tolerance = name.startsWith('s3') ? 1_000 : 250;
    expect(Math.abs((blocked as { record: { expiresAt: number } }).record.expiresAt - done!.expiresAt)).toBeLessThan(tolerance);
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data: 'again', keepMs: 60_000 })).toBe(false);
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence })).toBe(false);
  });

  it('release frees the key at once; the next claim gets a higher fence', async () => {
    const k = key();
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 10_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence })).toBe(true);
    expect(await backend.store.get(k)).toBeUndefined();
    const next = await backend.store.claim({ key: k, owner: token(), leaseMs: 10_000 });
    expect(next).toMatchObject({ claimed: true });
    expect(next.claimed && next.fence).toBeGreaterThan(claim.fence);
  });

  it('an expired lease reads as absent; a takeover gets a higher fence and the stale holder can no longer settle', async () => {
    const k = key();
    const stale = token();
    const first = await backend.store.claim({ key: k, owner: stale, leaseMs: 150 });
    if (!first.claimed) throw new Error('not claimed');
    await eventually(async () => (await backend.store.get(k)) === undefined, 5000);
    const fresh = token();
    const takeover = await backend.another().claim({ key: k, owner: fresh, leaseMs: 10_000 });
    expect(takeover).toMatchObject({ claimed: true });
    if (!takeover.claimed) throw new Error('unreachable');
    expect(takeover.fence).toBeGreaterThan(first.fence);
    expect(await backend.store.settle({ key: k, owner: stale, fence: first.fence, data: 'late', keepMs: 60_000 })).toBe(false);
    expect(await backend.store.settle({ key: k, owner: stale, fence: first.fence })).toBe(false);
    expect(await backend.store.get(k)).toMatchObject({ state: 'held', owner: fresh, fence: takeover.fence });
    expect(await backend.store.settle({ key: k, owner: fresh, fence: takeover.fence, data: 'fresh', keepMs: 60_000 })).toBe(true);
  });

  it('a lease that ran out with no takeover can still be settled by its holder', async () => {
    const k = key();
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 100 });
    if (!claim.claimed) throw new Error('not claimed');
    await eventually(async () => (await backend.store.get(k)) === undefined, 5000);
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data: 'slow but alone', keepMs: 60_000 })).toBe(true);
    expect(await backend.store.get(k)).toMatchObject({ state: 'done', data: 'slow but alone' });
  });

  it('a done record expires after keepMs and the key is claimed again with a higher fence', async () => {
    const k = key();
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 10_000 });
    if (!claim.claimed) throw new Error('not claimed');
    await backend.store.settle({ key: k, owner, fence: claim.fence, data: 'r', keepMs: 150 });
    await eventually(async () => (await backend.store.get(k)) === undefined, 5000);
    const again = await backend.store.claim({ key: k, owner: token(), leaseMs: 10_000 });
    expect(again.claimed && again.fence).toBe(claim.fence + 2);
  });

  it('renews only for the owner at its fence: the lease moves, the fence grows, the data stays', async () => {
    const k = key();
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 300, data: 'fp' });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.renew({ key: k, owner: token(), fence: claim.fence, leaseMs: 60_000 })).toEqual({ renewed: false });
    expect(await backend.store.renew({ key: k, owner, fence: claim.fence + 1, leaseMs: 60_000 })).toEqual({ renewed: false });
    const sent = Date.now();
    const renewed = await backend.store.renew({ key: k, owner, fence: claim.fence, leaseMs: 60_000 });
    expect(renewed).toEqual({ renewed: true, fence: claim.fence + 1, expiresAt: expect.any(Number) });
    if (!renewed.renewed) throw new Error('unreachable');
    expect(renewed.expiresAt).toBeGreaterThanOrEqual(sent + 60_000);
    expect(renewed.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    // The fence it renewed with is spent: neither a second renewal nor a settle takes it.
    expect(await backend.store.renew({ key: k, owner, fence: claim.fence, leaseMs: 60_000 })).toEqual({ renewed: false });
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence })).toBe(false);
    // Long past the first lease's end, the key is still held: a rival is refused.
    await new Promise((r) => setTimeout(r, 2_500));
    const rival = await backend.another().claim({ key: k, owner: token(), leaseMs: 10_000 });
    expect(rival).toEqual({ claimed: false, record: { state: 'held', fence: renewed.fence, owner, expiresAt: expect.any(Number), data: 'fp' } });
    expect((rival as { record: { expiresAt: number } }).record.expiresAt).toBeGreaterThan(Date.now() + 50_000);
    expect(await backend.store.settle({ key: k, owner, fence: renewed.fence, data: 'finished', keepMs: 60_000 })).toBe(true);
    // Done is nobody's lease to renew.
    expect(await backend.store.renew({ key: k, owner, fence: renewed.fence + 1, leaseMs: 60_000 })).toEqual({ renewed: false });
    expect(await backend.store.get(k)).toMatchObject({ state: 'done', data: 'finished' });
  });

  it('a lease that ran out with no takeover can be renewed; after a takeover it cannot', async () => {
    const alone = key();
    const owner = token();
    const first = await backend.store.claim({ key: alone, owner, leaseMs: 100 });
    if (!first.claimed) throw new Error('not claimed');
    await eventually(async () => (await backend.store.get(alone)) === undefined, 5000);
    const renewed = await backend.store.renew({ key: alone, owner, fence: first.fence, leaseMs: 10_000 });
    expect(renewed).toMatchObject({ renewed: true, fence: first.fence + 1 });
    expect(await backend.store.get(alone)).toMatchObject({ state: 'held', owner });

    const taken = key();
    const stale = await backend.store.claim({ key: taken, owner, leaseMs: 100 });
    if (!stale.claimed) throw new Error('not claimed');
    await eventually(async () => (await backend.store.get(taken)) === undefined, 5000);
    const fresh = token();
    const takeover = await backend.another().claim({ key: taken, owner: fresh, leaseMs: 10_000 });
    expect(takeover).toMatchObject({ claimed: true });
    expect(await backend.store.renew({ key: taken, owner, fence: stale.fence, leaseMs: 10_000 })).toEqual({ renewed: false });
    expect(await backend.store.get(taken)).toMatchObject({ state: 'held', owner: fresh });
  });

  it('claimMany and settleMany decide each key on its own, in request order', async () => {
    const keys = Array.from({ length: 12 }, key);
    const heldBy = token();
    await backend.store.claim({ key: keys[0]!, owner: heldBy, leaseMs: 10_000 });
    const doneBy = token();
    const d = await backend.store.claim({ key: keys[1]!, owner: doneBy, leaseMs: 10_000 });
    if (!d.claimed) throw new Error('not claimed');
    await backend.store.settle({ key: keys[1]!, owner: doneBy, fence: d.fence, data: 'done', keepMs: 60_000 });
    const owners = keys.map(() => token());
    const results = await backend.another().claimMany(keys.map((k, i) => ({ key: k, owner: owners[i]!, leaseMs: 10_000, data: `d${i}` })));
    expect(results[0]).toMatchObject({ claimed: false, record: { state: 'held', owner: heldBy } });
    expect(results[1]).toMatchObject({ claimed: false, record: { state: 'done', data: 'done' } });
    expect(results.slice(2).every((r) => r.claimed && r.fence === 1)).toBe(true);
    const settled = await backend.store.settleMany([
      { key: keys[0]!, owner: owners[0]!, fence: 1, data: 'not mine', keepMs: 60_000 },
      ...keys.slice(2, 7).map((k, i) => ({ key: k, owner: owners[i + 2]!, fence: 1, data: `r${i}`, keepMs: 60_000 })),
      ...keys.slice(7).map((k, i) => ({ key: k, owner: owners[i + 7]!, fence: 1 })),
    ]);
    expect(settled).toEqual([false, true, true, true, true, true, true, true, true, true, true]);
    expect(await backend.store.get(keys[0]!)).toMatchObject({ state: 'held', owner: heldBy });
    expect(await backend.store.get(keys[4]!)).toMatchObject({ state: 'done', data: 'r2' });
    expect(await backend.store.get(keys[9]!)).toBeUndefined();
    expect(await backend.store.claimMany([])).toEqual([]);
    expect(await backend.store.settleMany([])).toEqual([]);
  });

  it('refuses malformed requests before sending anything', async () => {
    const k = key();
    const bad: Array<[unknown, string]> = [
      [{ key: '', owner: 'o', leaseMs: 1 }, 'request.key'],
      [{ key: 'a\u0000b', owner: 'o', leaseMs: 1 }, 'request.key'],
      [{ key: k, owner: 'has|bar', leaseMs: 1 }, 'request.owner'],
      [{ key: k, owner: 'has space', leaseMs: 1 }, 'request.owner'],
      [{ key: k, owner: 'o', leaseMs: 0 }, 'request.leaseMs'],
      [{ key: k, owner: 'o', leaseMs: 1.5 }, 'request.leaseMs'],
      [{ key: k, owner: 'o', leaseMs: 1, data: 7 }, 'request.data'],
    ];
    for (const [request, field] of bad) {
      await expect(backend.store.claim(request as never)).rejects.toMatchObject({ name: 'LeaseRequestError', code: 'LEASE_REQUEST_INVALID', field });
    }
    await expect(backend.store.settle({ key: k, owner: 'o', fence: 1, data: 'x' })).rejects.toMatchObject({ field: 'request.keepMs' });
    await expect(backend.store.settle({ key: k, owner: 'o', fence: 0 })).rejects.toBeInstanceOf(LeaseRequestError);
    await expect(backend.store.renew({ key: k, owner: 'o', fence: 1, leaseMs: 0 })).rejects.toMatchObject({ field: 'request.leaseMs' });
    await expect(backend.store.renew({ key: k, owner: 'o', fence: 1.5, leaseMs: 10 })).rejects.toMatchObject({ field: 'request.fence' });
    await expect(backend.store.claimMany([{ key: k, owner: 'o', leaseMs: 1 }, { key: k, owner: 'p', leaseMs: 1 }])).rejects.toMatchObject({ field: 'requests[1].key' });
    // Nothing was written by the refused batch.
    expect(await backend.store.get(k)).toBeUndefined();
  });

  it('gives up with the signal\'s reason when it has aborted', async () => {
    const reason = new Error('deadline');
    const signal = AbortSignal.abort(reason);
    await expect(backend.store.claim({ key: key(), owner: token(), leaseMs: 1000 }, { signal })).rejects.toBe(reason);
    await expect(backend.store.get(key(), { signal })).rejects.toBe(reason);
    await expect(backend.store.renew({ key: key(), owner: token(), fence: 1, leaseMs: 1000 }, { signal })).rejects.toBe(reason);
  });
});
