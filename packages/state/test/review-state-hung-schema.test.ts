/**
 * Review (D2): an async schema check that never settles (an async `refine` waiting on a service
 * that does not answer) was not bounded by the load's time limit — only the source reads were
 * raced against it. Without a deadline `get()` waited forever (`timeoutMs: 100`, still pending
 * after 2 s); with a deadline, a last good state within `staleIfErrorMs` was never served: every
 * invocation got `DEADLINE_EXCEEDED`, no failure was recorded, so `retryAfterErrorMs` never
 * applied and each invocation started another hanging load.
 *
 * Now the parse is raced against the load's signal: the time limit fails the round like a source
 * that timed out (`STATE_UNAVAILABLE`). Pure cache logic: a custom source is enough.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { custom, defineState } from '../src/index.js';
import { logLines, stateErrorOf } from './support.js';

/** A schema whose refinement never settles while `hang()` says so. */
function hangingSchema(hang: () => boolean) {
  return z.object({ x: z.number().refine(() => (hang() ? new Promise<boolean>(() => undefined) : true)) });
}

describe('an async schema check that hangs', () => {
  it('is bounded by the load limit: the last good state is served within the deadline, the failure recorded, and retryAfterErrorMs holds', async () => {
    let hang = false;
    let loads = 0;
    const log = logLines();
    const cache = defineState({
      sources: { x: custom({ load: () => (loads++, 1) }) },
      schema: hangingSchema(() => hang),
      maxAgeMs: 10,
      staleIfErrorMs: 60_000,
      retryAfterErrorMs: 60_000,
      logger: log.logger,
    });
    expect(await cache.get()).toEqual({ x: 1 });
    hang = true;
    await sleep(20);

    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const outcome = await cache.get({ deadline: Date.now() + 600 }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      expect(outcome).toEqual({ value: { x: 1 } });
      expect(Date.now() - started).toBeLessThan(600);
    }
    // One hung round (at half the first invocation's 600 ms), then retryAfterErrorMs: no new load.
    expect(loads).toBe(2);
    expect(cache.status().lastError).toMatchObject({
      code: 'STATE_UNAVAILABLE',
      failures: [expect.objectContaining({ source: '(root)', kind: 'load', message: expect.stringContaining('the schema did not finish') })],
    });
    expect(log.entries().filter((l) => l.msg === 'serving the last good state: reload failed')).toHaveLength(1);
  });

  it('fails a first load with STATE_UNAVAILABLE at timeoutMs instead of leaving get() pending', async () => {
    const cache = defineState({
      sources: { x: custom({ load: () => 1 }) },
      schema: hangingSchema(() => true),
      timeoutMs: 100,
      logger: logLines().logger,
    });
    const started = Date.now();
    const settled = cache.get().then(
      () => 'served',
      (error: unknown) => error,
    );
    const outcome = await Promise.race([settled, sleep(2_000).then(() => 'pending after 2 s')]);
    expect(outcome).toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [expect.objectContaining({ message: expect.stringContaining('timed out after 100 ms') })] });
    expect(Date.now() - started).toBeLessThan(1_000);
    // Not a schema rejection: nothing was judged invalid.
    const again = await stateErrorOf(cache.get());
    expect(again.code).toBe('STATE_UNAVAILABLE');
  });
});
