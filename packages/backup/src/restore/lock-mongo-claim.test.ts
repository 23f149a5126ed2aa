/**
 * `claimsAcrossDrop` (pure logic, on a fake lease store): which failures are the drop race and
 * sent again, and that a claim counts only once a later read shows it as the live lock. The
 * real race runs on FerretDB in test/restore-lock-drop-storm.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimResult, LeaseRecord, LeaseStore } from '@steadyfn/lease';
import { PROBE_NO_VERDICT } from '@steadyfn/lease/internal';
import { DROP_RACE_ATTEMPTS, claimsAcrossDrop, droppedUnderRequest } from './lock-mongo-claim.js';

const named = (name: string, message: string, extra: object = {}): Error => Object.assign(new Error(message), { name }, extra);
const closed = () => named('MongoNetworkError', 'connection 11 to 127.0.0.1:27117 closed');
const UNTIL = Date.now() + 60_000;
const held = (owner: string, fence = 1): LeaseRecord => ({ state: 'held', fence, owner, expiresAt: UNTIL });

function fakeStore(claims: Array<ClaimResult | Error>, reads: Array<LeaseRecord | undefined | Error>): { store: LeaseStore; calls: string[] } {
  const calls: string[] = [];
  const next = async <T>(list: Array<T | Error>, what: string): Promise<T> => {
    calls.push(what);
    const value = list.shift();
    if (value instanceof Error) throw value;
    return value as T;
  };
  const store = { claim: () => next(claims, 'claim'), get: () => next(reads, 'get') } as unknown as LeaseStore;
  return { store, calls };
}

describe('droppedUnderRequest', () => {
  it.each([
    ['FerretDB: no such table', named('MongoServerError', 'no such table: steadyfn_restore_lock_1a2b', { code: 1 })],
    ['FerretDB: a failed implicit collectionCreate', named('MongoServerError', 'collectionCreate: UNIQUE constraint failed: index', { code: 1 })],
    ['a connection the server closed, as the cause of the typed store error', named('LeaseStoreUnavailableError', 'the lease store (mongodb) could not be reached', { cause: closed() })],
    ['the probe without a verdict (its code, not its text)', named('LeaseStoreUnavailableError', 'x', { cause: named('ProbeNoVerdictError', 'no verdict', { code: PROBE_NO_VERDICT }) })],
  ])('is true for %s', (_what, error) => expect(droppedUnderRequest(error)).toBe(true));

  it.each([
    ['no server selected', named('MongoServerSelectionError', 'Server selection timed out after 5000 ms')],
    ['a timeout', named('MongoNetworkError', 'connection 3 to 127.0.0.1:27117 timed out')],
    ['another internal error', named('MongoServerError', 'disk I/O error', { code: 1 })],
    ['a refusal', named('MongoServerError', 'not authorized', { code: 13 })],
    ['the probe\'s words without its code', named('LeaseStoreUnavailableError', 'x', { cause: new Error('the lease collection was dropped while each of 3 rounds of the start-up probe ran') })],
  ])('is false for %s', (_what, error) => expect(droppedUnderRequest(error)).toBe(false));
});

describe('claimsAcrossDrop', () => {
  const request = { key: 'restore', owner: 'me', leaseMs: 60_000 };

  it('sends a claim that met the drop again, and counts it once a read shows it', async () => {
    const { store, calls } = fakeStore([closed(), { claimed: true, fence: 1, expiresAt: 1 }], [held('me')]);
    expect(await claimsAcrossDrop(store).claim(request)).toEqual({ claimed: true, fence: 1, expiresAt: 1 });
    expect(calls).toEqual(['claim', 'claim', 'get']);
  });

  it('does not send again a claim whose server cannot be reached', async () => {
    const { store, calls } = fakeStore([named('MongoServerSelectionError', 'Server selection timed out')], []);
    await expect(claimsAcrossDrop(store).claim(request)).rejects.toMatchObject({ name: 'MongoServerSelectionError' });
    expect(calls).toEqual(['claim']);
  });

  it('stops sending after DROP_RACE_ATTEMPTS', async () => {
    const { store, calls } = fakeStore(Array.from({ length: DROP_RACE_ATTEMPTS + 1 }, closed), []);
    await expect(claimsAcrossDrop(store).claim(request)).rejects.toMatchObject({ name: 'MongoNetworkError' });
    expect(calls).toHaveLength(DROP_RACE_ATTEMPTS);
  });

  it('a claim the read shows another holding (its generation won twice, on a re-created collection) is refused with that record', async () => {
    const { store } = fakeStore([{ claimed: true, fence: 1, expiresAt: 1 }], [held('other')]);
    expect(await claimsAcrossDrop(store).claim(request)).toEqual({ claimed: false, record: held('other') });
  });

  it('a claim the read no longer finds (the collection dropped again) is sent again', async () => {
    const { store, calls } = fakeStore([{ claimed: true, fence: 1, expiresAt: 1 }, { claimed: false, record: held('other') }], [undefined]);
    expect(await claimsAcrossDrop(store).claim(request)).toEqual({ claimed: false, record: held('other') });
    expect(calls).toEqual(['claim', 'get', 'claim']);
  });

  it('a lock found held by this claim\'s own owner (an earlier send landed, its reply lost) is this claim\'s', async () => {
    const { store } = fakeStore([closed(), { claimed: false, record: held('me', 1) }], [held('me', 1)]);
    expect(await claimsAcrossDrop(store).claim(request)).toMatchObject({ claimed: true, fence: 1 });
  });

  it('a refusal by another holder is returned without a read', async () => {
    const { store, calls } = fakeStore([{ claimed: false, record: held('other') }], []);
    expect(await claimsAcrossDrop(store).claim(request)).toEqual({ claimed: false, record: held('other') });
    expect(calls).toEqual(['claim']);
  });
});
