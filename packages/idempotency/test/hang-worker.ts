/**
 * Starts `fixtures/hang-worker.mjs`: a separate process that claims a delivery's key through the
 * real plugin and store (handler name `ship`, input `{ parcel: 42 }`) and hangs inside the
 * function. `claimed` resolves with its claim once the function is running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { handler } from '@steadyfn/handler';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { idempotency, type ClaimRequest, type IdempotencyStore } from '../src/index.js';
import { eventually, openBackend, type Backend, type BackendName } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/hang-worker.mjs', import.meta.url));

export interface WorkerOptions {
  /** The worker's `leaseMs`. */
  leaseMs: number;
  /** How far the worker's clock (`Date.now`) runs off the real one, in ms. @default 0 */
  clockSkewMs?: number;
}

export function startWorker(backend: Backend, deliveryId: string, options: WorkerOptions): { child: ChildProcess; claimed: Promise<ClaimRequest> } {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', WORKER], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: {
      ...process.env,
      IDEM_BACKEND: backend.name,
      IDEM_PREFIX: backend.prefix,
      IDEM_DB: backend.collection?.dbName ?? '',
      IDEM_COLLECTION: backend.collection?.collectionName ?? '',
      IDEM_DELIVERY: deliveryId,
      IDEM_LEASE_MS: String(options.leaseMs),
      IDEM_CLOCK_SKEW_MS: String(options.clockSkewMs ?? 0),
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

/** SIGKILLs the worker and waits until it is gone. */
export async function killWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * The worker's function (`ship`) as the next attempt runs it in this process, on `store`:
 * `retry()` invokes it for the same delivery; `runs()` counts how often it ran.
 */
export function shipRetry(store: IdempotencyStore, deliveryId: string): { retry(): Promise<unknown>; runs(): number } {
  let runs = 0;
  const main = handler({ name: 'ship', logSink: () => undefined, use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, () => ({ shipped: `retry ${++runs}` }));
  return { retry: () => main.invoke({ parcel: 42 }, { deliveryId, requestId: randomUUID() }), runs: () => runs };
}

/** Retries until the key is taken over (every earlier answer must be `IDEMPOTENCY_IN_PROGRESS`); the result of the attempt that ran. */
export async function retryUntilTakenOver(retry: () => Promise<unknown>, withinMs: number): Promise<unknown> {
  let result: unknown;
  await eventually(
    async () => {
      try {
        result = await retry();
        return true;
      } catch (error) {
        expect((error as { code: string }).code).toBe('IDEMPOTENCY_IN_PROGRESS');
        return false;
      }
    },
    withinMs,
    100,
  );
  return result;
}

/**
 * Opens `name`'s backend for a describe block and SIGKILLs, after each test, the worker it
 * last `track`ed if that is still alive.
 */
export function workerSuite(name: BackendName): { backend(): Backend; track(child: ChildProcess): void } {
  let backend: Backend | undefined;
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
  return { backend: () => backend!, track: (c) => void (child = c) };
}
