/**
 * Starts `fixtures/hang-worker.mjs`: a separate process that claims a delivery's key through the
 * real plugin and store (handler name `ship`, input `{ parcel: 42 }`) and hangs inside the
 * function. `claimed` resolves with its claim once the function is running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClaimRequest } from '../src/index.js';
import type { Backend } from './support.js';

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
