/**
 * The SIGTERM bound's default, on the fake clock (the real signal and a real QUIT are in
 * test/sigterm.test.ts): Lambda reserves the runtime at most 300 ms of its shutdown phase when only
 * external extensions are registered (500 ms with an internal one), so a close that hangs is given
 * up after 300 ms and the signal raised again, before Lambda's SIGKILL.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineClient } from './handle.js';
import { closeAll } from './registry.js';
import { closeOnSigterm } from './shutdown.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('closeOnSigterm', () => {
  it('gives up on a close that hangs after 300 ms by default, then raises SIGTERM again', async () => {
    const closing: Array<() => void> = [];
    const handle = defineClient({ name: `hangs-${Math.random()}`, create: async () => ({}), close: () => new Promise<void>((resolve) => closing.push(resolve)) });
    await handle.get();
    const raised = vi.spyOn(process, 'kill').mockImplementation(() => true);
    vi.useFakeTimers();
    const remove = closeOnSigterm();
    // Node's default for SIGTERM is gone while our listener is installed; emit it as the platform's signal would.
    process.emit('SIGTERM', 'SIGTERM');
    await vi.advanceTimersByTimeAsync(299);
    expect(closing).toHaveLength(1);
    expect(raised).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(raised).toHaveBeenCalledWith(process.pid, 'SIGTERM');
    remove();
    for (const resolve of closing) resolve();
    vi.useRealTimers();
    await closeAll();
  });
});
