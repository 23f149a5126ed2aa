/**
 * A worker process SIGKILLed in the middle of the function: its lease runs out, the next
 * attempt takes over and runs the function once, and the dead worker's token can no longer
 * complete or release the record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, type ClaimRequest } from '../src/index.js';
import { BACKENDS, eventually, openBackend, silentSink, type Backend } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/hang-worker.mjs', import.meta.url));
const LEASE_MS = 2500;

function startWorker(backend: Backend, deliveryId: string): { child: ChildProcess; claimed: Promise<ClaimRequest> } {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', WORKER], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: {
      ...process.env,
      IDEM_BACKEND: backend.name,
      IDEM_PREFIX: backend.prefix,
      IDEM_DB: backend.collection?.dbName ?? '',
      IDEM_COLLECTION: backend.collection?.collectionName ?? '',
      IDEM_DELIVERY: deliveryId,
      IDEM_LEASE_MS: String(LEASE_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const claimed = new Promise<ClaimRequest>((resolve, reject) => {
    let claim: ClaimRequest | undefined;
    const timer = setTimeout(() => reject(new Error(`worker did not start running: ${stderr.slice(0, 2000)}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { claimed?: ClaimRequest; running?: boolean };
      if (msg.claimed) claim = msg.claimed;
      if (msg.running && claim) {
        clearTimeout(timer);
        resolve(claim);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited early (${code}): ${stderr.slice(0, 2000)}`));
    });
  });
  return { child, claimed };
}

describe.each(BACKENDS)('a SIGKILLed worker on %s', (name) => {
  let backend: Backend;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('after the lease a retry runs the function once; the dead owner cannot complete or release', async () => {
    const deliveryId = randomUUID();
    const worker = startWorker(backend, deliveryId);
    child = worker.child;
    const claim = await worker.claimed;
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGKILL');
    await exited;
    expect(worker.child.signalCode).toBe('SIGKILL');

    let runs = 0;
    const main = handler({ name: 'ship', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, () => ({ shipped: `retry ${++runs}` }));
    const retry = () => main.invoke({ parcel: 42 }, { deliveryId, requestId: randomUUID() });

    // While the dead worker's lease lasts, the key is still held.
    await expect(retry()).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(runs).toBe(0);

    let result: unknown;
    await eventually(async () => {
      try {
        result = await retry();
        return true;
      } catch (error) {
        expect((error as { code: string }).code).toBe('IDEMPOTENCY_IN_PROGRESS');
        return false;
      }
    }, LEASE_MS + 10_000, 100);
    expect(result).toEqual({ shipped: 'retry 1' });
    expect(runs).toBe(1);

    // The worker "comes back" with its saved token: refused, and the record is untouched.
    expect(await backend.store.complete({ key: claim.key, owner: claim.owner, fingerprint: claim.fingerprint, result: '{"k":"v","v":"stale"}', expiresAt: Date.now() + 60_000 })).toBe(false);
    expect(await backend.store.release({ key: claim.key, owner: claim.owner })).toBe(false);
    expect(await backend.store.completeMany([{ key: claim.key, owner: claim.owner }])).toEqual([false]);
    expect(await retry()).toEqual({ shipped: 'retry 1' });
    expect(runs).toBe(1);
  });
});
