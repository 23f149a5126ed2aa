/**
 * A worker process SIGKILLed in the middle of the function: its lease runs out, the next
 * attempt takes over and runs the function once, and the dead worker's token can no longer
 * complete or release the record.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { killWorker, retryUntilTakenOver, shipRetry, startWorker, workerSuite } from './hang-worker.js';
import { BACKENDS } from './support.js';

// Long enough that the first retry, after the worker's report is read and the worker is killed,
// still meets its lease on a loaded machine (FerretDB answers a claim in up to ~1 s there).
const LEASE_MS = 6_000;

describe.each(BACKENDS)('a SIGKILLed worker on %s', (name) => {
  const suite = workerSuite(name);

  it('after the lease a retry runs the function once; the dead owner cannot complete or release', async () => {
    const deliveryId = randomUUID();
    const backend = suite.backend();
    const worker = startWorker(backend, deliveryId, { leaseMs: LEASE_MS });
    suite.track(worker.child);
    const claim = await worker.claimed;
    await killWorker(worker.child);
    expect(worker.child.signalCode).toBe('SIGKILL');

    const { retry, runs } = shipRetry(backend.store, deliveryId);

    // While the dead worker's lease lasts, the key is still held.
    await expect(retry()).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(runs()).toBe(0);

    expect(await retryUntilTakenOver(retry, LEASE_MS + 10_000)).toEqual({ shipped: 'retry 1' });
    expect(runs()).toBe(1);

    // The worker "comes back" with its saved token: refused, and the record is untouched.
    expect(await backend.store.complete({ key: claim.key, owner: claim.owner, fingerprint: claim.fingerprint, result: '{"k":"v","v":"stale"}', expiresAt: Date.now() + 60_000 })).toBe(false);
    expect(await backend.store.release({ key: claim.key, owner: claim.owner })).toBe(false);
    expect(await backend.store.completeMany([{ key: claim.key, owner: claim.owner }])).toEqual([false]);
    expect(await retry()).toEqual({ shipped: 'retry 1' });
    expect(runs()).toBe(1);
  }, 60_000);
});
