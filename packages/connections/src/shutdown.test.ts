/**
 * The SIGTERM bound's default, on the fake clock (the real signal and a real QUIT are in
 * test/sigterm.test.ts): Lambda reserves the runtime at most 300 ms of its shutdown phase when only
 * external extensions are registered (500 ms with an internal one), so a close that hangs is given
 * up after 250 ms (a margin before Lambda's SIGKILL) and the signal raised again; on Cloud Run /
 * Cloud Functions (10 s before SIGKILL) after 5,000 ms.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineClient } from './handle.js';
import { closeAll } from './registry.js';
import { closeOnSigterm } from './shutdown.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('closeOnSigterm', () => {
  async function boundOf(env: Record<string, string | undefined>, expected: number): Promise<void> {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const closing: Array<() => void> = [];
    const handle = defineClient({ name: `hangs-${Math.random()}`, create: async () => ({}), closeTimeoutMs: 60_000, close: () => new Promise<void>((resolve) => closing.push(resolve)) });
    await handle.get();
    const raised = vi.spyOn(process, 'kill').mockImplementation(() => true);
    vi.useFakeTimers();
    const remove = closeOnSigterm();
    // Node's default for SIGTERM is gone while our listener is installed; emit it as the platform's signal would.
    process.emit('SIGTERM', 'SIGTERM');
    await vi.advanceTimersByTimeAsync(expected - 1);
    expect(closing).toHaveLength(1);
    expect(raised).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(raised).toHaveBeenCalledWith(process.pid, 'SIGTERM');
    remove();
    for (const resolve of closing) resolve();
    vi.useRealTimers();
    await closeAll();
  }

  it('on Lambda gives up on a close that hangs after 250 ms by default (50 ms before the runtime\'s 300 ms share ends), then raises SIGTERM again', async () => {
    await boundOf({ AWS_LAMBDA_FUNCTION_NAME: 'orders', K_SERVICE: undefined, FUNCTION_TARGET: undefined }, 250);
  });

  it('on Cloud Run / Cloud Functions (10 s before SIGKILL) after 5,000 ms by default', async () => {
    await boundOf({ AWS_LAMBDA_FUNCTION_NAME: undefined, __OW_ACTION_NAME: undefined, __OW_ACTIVATION_ID: undefined, FUNCTIONS_WORKER_RUNTIME: undefined, K_SERVICE: 'orders' }, 5_000);
  });
});
