/**
 * Keys and data are sent as UTF-8: a string with an unpaired surrogate (`'\uD800'`, which JSON
 * can carry as `"\ud800"`) is not Unicode text and reaches the store as U+FFFD, so two distinct
 * keys would share one lease and data would come back changed. Such strings are refused before
 * anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { LeaseRequestError } from '../src/index.js';
import { REAL_BACKENDS, token, useBackend } from './support/backends.js';

describe.each(REAL_BACKENDS)('unpaired surrogates on %s', (name) => {
  const backend = useBackend(name);

  it('two keys that differ only in an unpaired surrogate are refused, not merged into one lease', async () => {
    const stem = `sur:${token()}:`;
    const refused = { code: 'LEASE_REQUEST_INVALID', field: 'request.key' };
    await expect(backend.store.claim({ key: `${stem}\uD800`, owner: token(), leaseMs: 60_000 })).rejects.toMatchObject(refused);
    await expect(backend.store.claim({ key: `${stem}\uD801`, owner: token(), leaseMs: 60_000 })).rejects.toMatchObject(refused);
    await expect(backend.store.claimMany([{ key: `${stem}ok`, owner: token(), leaseMs: 60_000 }, { key: `${stem}\uDC00`, owner: token(), leaseMs: 60_000 }])).rejects.toMatchObject({ field: 'requests[1].key' });
    await expect(backend.store.get(`${stem}\uD800`)).rejects.toBeInstanceOf(LeaseRequestError);
    // Nothing was written: neither the replaced key nor the good key of the refused batch.
    expect(await backend.store.get(`${stem}\uFFFD`)).toBeUndefined();
    expect(await backend.store.get(`${stem}ok`)).toBeUndefined();
    // A well-formed astral character is fine, and distinct from its neighbour.
    const a = await backend.store.claim({ key: `${stem}\u{1F600}`, owner: token(), leaseMs: 60_000 });
    const b = await backend.store.claim({ key: `${stem}\u{1F601}`, owner: token(), leaseMs: 60_000 });
    expect([a.claimed, b.claimed]).toEqual([true, true]);
  });

  it('data with an unpaired surrogate is refused (it would come back changed); well-formed data round-trips', async () => {
    const key = `sur:${token()}`;
    const owner = token();
    await expect(backend.store.claim({ key, owner, leaseMs: 60_000, data: 'a\uDC00b' })).rejects.toMatchObject({ code: 'LEASE_REQUEST_INVALID', field: 'request.data' });
    expect(await backend.store.get(key)).toBeUndefined();
    const claim = await backend.store.claim({ key, owner, leaseMs: 60_000, data: 'ok' });
    if (!claim.claimed) throw new Error('not claimed');
    await expect(backend.store.settle({ key, owner, fence: claim.fence, data: '\uD83D', keepMs: 60_000 })).rejects.toMatchObject({ field: 'request.data' });
    expect(await backend.store.settle({ key, owner, fence: claim.fence, data: '\u{1F600}\u0000|', keepMs: 60_000 })).toBe(true);
    expect(await backend.store.get(key)).toMatchObject({ state: 'done', data: '\u{1F600}\u0000|' });
  });
});
