/**
 * `giveBack`, the bounded best-effort release of a failed claim: retried while the store is
 * unavailable, never past `GIVE_BACK_MS`, never throwing; and off the load path — no retry
 * package is bundled with a Redis lease store (esbuild bundles what an `import()` names, so a
 * package loaded "only on the failure path" is still code every function parses at start-up),
 * nor a slot library (redis-slot.ts computes slots; review-cluster-slots.test.ts checks them
 * against the server).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError } from '../errors.js';
import { GIVE_BACK_MS, giveBack } from './give-back.js';

const unavailable = () => new LeaseStoreUnavailableError('redis', new Error('Connection is closed.'));

describe('giveBack', () => {
  it('retries while the store is unavailable and stops at the first success', async () => {
    let calls = 0;
    await giveBack(async () => {
      calls++;
      if (calls < 3) throw unavailable();
    });
    expect(calls).toBe(3);
  });

  it('does not retry another failure, and never throws', async () => {
    let calls = 0;
    await expect(
      giveBack(async () => {
        calls++;
        throw new Error('ERR wrong number of arguments');
      }),
    ).resolves.toBeUndefined();
    expect(calls).toBe(1);
  });

  it('gives up once the bound has passed (the store still unavailable), with one signal for every attempt', async () => {
    let calls = 0;
    const signals = new Set<AbortSignal>();
    await expect(
      giveBack(async (signal) => {
        calls++;
        signals.add(signal);
        throw unavailable();
      }),
    ).resolves.toBeUndefined();
    expect(calls).toBeGreaterThan(1);
    // Waits of 20 ms doubling to 400 ms (×1–2): far fewer than a busy loop would make.
    expect(calls).toBeLessThan(GIVE_BACK_MS / 20);
    expect(signals.size).toBe(1);
  });
});

describe('load path', () => {
  it('a bundle of the Redis lease store holds no retry package and no second slot library (ioredis pins its own)', async () => {
    const result = await build({
      stdin: { contents: `export { redisLeaseStore } from ${JSON.stringify(fileURLToPath(new URL('../index.ts', import.meta.url)))};`, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      write: false,
      metafile: true,
      logLevel: 'silent',
      conditions: ['steadyfn-source'],
      external: ['ioredis', 'mongodb', '@aws-sdk/*', 'zod'],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('lease/src/stores/give-back.ts'))).toBe(true);
    expect(inputs.filter((path) => /node_modules\/(p-retry|is-network-error|cluster-key-slot)\//.test(path))).toEqual([]);
  });
});
