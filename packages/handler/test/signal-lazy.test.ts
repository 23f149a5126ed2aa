/**
 * `ctx.signal` is made on first read, and aborted by the shared deadline watch (no timer of its
 * own): a read after the answer bound gets a signal already aborted with DEADLINE_EXCEEDED, as
 * an early read would have; invocations that never read it, or read it with a deadline an hour
 * away, leave nothing that keeps the process alive.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler, type Context, type Plugin } from '../src/index.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { advance, useFakeClock, useRealClock, watch } from './support/clock.js';

const silent = { logSink: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lambdaContext = (ms: number) => ({ awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => ms });

/** What a first read of ctx.signal saw. */
function readSignal(ctx: Context): { aborted: boolean; code: unknown } {
  const signal = ctx.signal;
  return { aborted: signal.aborted, code: (signal.reason as { code?: unknown } | undefined)?.code };
}

describe('ctx.signal made on first read', () => {
  // On a fake clock (support/clock.ts): the function starts before the 150 ms answer bound and
  // reads the signal when the test moves the clock. On the real clock a pause of 150 ms on a
  // loaded machine before the function started was answered DEADLINE_EXCEEDED without running it.
  beforeEach(useFakeClock);
  afterEach(useRealClock);

  it('read first by the function after the answer bound: already aborted with DEADLINE_EXCEEDED (no plugins)', async () => {
    let seen: unknown;
    const main = handler({ deadlineMarginMs: 50, ...silent }, async (_input, ctx) => {
      await sleep(400);
      seen = readSignal(ctx);
      return 'late';
    });
    const call = watch(main.aws({}, lambdaContext(200)));
    await advance(150);
    expect(call.error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await advance(250);
    expect(seen).toEqual({ aborted: true, code: 'DEADLINE_EXCEEDED' });
  });

  it('read first by onError and finally after the answer bound, and by the function late: the same aborted signal', async () => {
    const seen: Array<{ hook: string; aborted: boolean; code: unknown }> = [];
    const signals = new Set<AbortSignal>();
    const late: Plugin = {
      name: 'late',
      extend: () => ({ extra: 1 }),
      onError: (ctx) => {
        signals.add(ctx.signal);
        seen.push({ hook: 'onError', ...readSignal(ctx) });
      },
      finally: async (ctx) => {
        signals.add(ctx.signal);
        seen.push({ hook: 'finally', ...readSignal(ctx) });
      },
    };
    const main = handler({ use: [late], deadlineMarginMs: 50, ...silent }, async (_input, ctx) => {
      await sleep(400);
      signals.add(ctx.signal);
      seen.push({ hook: 'fn', ...readSignal(ctx) });
    });
    const call = watch(main.aws({}, lambdaContext(200)));
    await advance(150);
    expect(call.error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await advance(250);
    expect(seen).toEqual([
      { hook: 'onError', aborted: true, code: 'DEADLINE_EXCEEDED' },
      { hook: 'finally', aborted: true, code: 'DEADLINE_EXCEEDED' },
      { hook: 'fn', aborted: true, code: 'DEADLINE_EXCEEDED' },
    ]);
    expect(signals.size).toBe(1);
  });

  it('read before the answer bound: not aborted then, aborted at it with DEADLINE_EXCEEDED', async () => {
    let early: unknown;
    let signal: AbortSignal | undefined;
    const main = handler({ deadlineMarginMs: 50, ...silent }, async (_input, ctx) => {
      signal = ctx.signal;
      early = readSignal(ctx);
      await sleep(400);
    });
    const call = watch(main.aws({}, lambdaContext(200)));
    await advance(149);
    expect(call.settled).toBe(false);
    expect(signal!.aborted).toBe(false);
    await advance(1);
    expect(call.error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(early).toEqual({ aborted: false, code: undefined });
    expect({ aborted: signal!.aborted, code: (signal!.reason as { code: string }).code }).toEqual({ aborted: true, code: 'DEADLINE_EXCEEDED' });
  });
});

describe('a process whose invocations end', () => {
  let dir: string | undefined;
  let bundle: string;
  beforeAll(() => {
    ({ file: bundle, dir } = bundleChild(new URL('./support/exit-child.ts', import.meta.url).href, { format: 'esm' }));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits on its own after warm invocations with an hour left, signal read or not: nothing of the deadline keeps it alive', async () => {
    const child = spawn(process.execPath, [bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    // A leaked timer (an hour away) or a referenced handle would keep it running: it is killed then, and the exit code says so.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect({ code, out, err }).toEqual({ code: 0, out: 'done\n', err: '' });
  });
});
