/**
 * `giveBack`, the bounded best-effort release of a failed claim (p-retry under it): the policy
 * checked against what it really does — retried while the store is unavailable, stops at the
 * first success, never retries another failure, never past `GIVE_BACK_MS` (the attempt running
 * at the bound is ended by its signal, and no attempt follows), never throws. And off the load
 * path, no second slot library in a bundle of the Redis store (redis-slot.ts computes slots;
 * review-cluster-slots.test.ts checks them against the server).
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError } from '../errors.js';
import { GIVE_BACK_MS, giveBack } from './give-back.js';

const unavailable = () => new LeaseStoreUnavailableError('redis', new Error('Connection is closed.'));

/** Resolves once `signal` has aborted (at once if it has). */
const aborted = async (signal: AbortSignal) => {
  if (!signal.aborted) await once(signal, 'abort');
};

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

  it('stops retrying at the first failure that is not unavailability', async () => {
    let calls = 0;
    await expect(
      giveBack(async () => {
        calls++;
        if (calls < 3) throw unavailable();
        throw new TypeError('not a network error');
      }),
    ).resolves.toBeUndefined();
    expect(calls).toBe(3);
  });

  it('gives up once the bound has passed (the store still unavailable), with one signal for every attempt', async () => {
    let calls = 0;
    const signals = new Set<AbortSignal>();
    const start = performance.now();
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
    // Not before the bound (a count of retries would end it early): a lower bound only, which a
    // loaded machine can only lengthen; 5 ms of slack for timers rounded to the millisecond.
    expect(performance.now() - start).toBeGreaterThanOrEqual(GIVE_BACK_MS - 5);
    // Nothing is left scheduled: once the bound's signal has fired, no attempt follows.
    const after = calls;
    const [signal] = signals;
    await aborted(signal!);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(after);
  });

  it('ends the attempt still running at the bound through its signal, and makes no other', async () => {
    let calls = 0;
    let seen: AbortSignal | undefined;
    await expect(
      giveBack(async (signal) => {
        calls++;
        seen = signal;
        await aborted(signal); // a call that only the bound ends, as a driver honouring the signal
        throw unavailable();
      }),
    ).resolves.toBeUndefined();
    expect(calls).toBe(1);
    expect(seen?.aborted).toBe(true);
  });
});

describe('load path', () => {
  it('a bundle of the Redis lease store holds no second slot library (ioredis pins its own)', async () => {
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
    expect(inputs.filter((path) => /node_modules\/cluster-key-slot\//.test(path))).toEqual([]);
  });
});
