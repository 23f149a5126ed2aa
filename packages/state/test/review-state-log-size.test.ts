/**
 * Review: a large state that fails its schema item by item (a price column turned to strings
 * across 50 000 plans) gave one failure per item, and both log lines built from them — `state
 * could not be loaded` (the plugin) and `serving the last good state: reload failed` (the
 * cache) — listed every one: a single line of 7 MB for 50 000 items, far past what log pipelines
 * take in one event (CloudWatch: 256 KB), so it arrived cut or not at all. The log lines now
 * carry the first failures and say how many more there were; the `StateError` keeps them all.
 */
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StateError, custom, defineState, state } from '../src/index.js';
import { logLines, manualClock } from './support.js';

const ITEMS = 5_000;
const schema = z.object({ plans: z.array(z.object({ id: z.number(), price: z.number() })) });
const invalidPlans = () => Array.from({ length: ITEMS }, (_, id) => ({ id, price: 'free' }));
const validPlans = () => Array.from({ length: ITEMS }, (_, id) => ({ id, price: 1 }));

/** Log lines are bounded well under one log event of the common pipelines (CloudWatch: 256 KB). */
const MAX_LINE = 64 * 1024;

describe('log lines about a state that fails item by item', () => {
  it('state could not be loaded: the first failures and how many more, in one bounded line', async () => {
    const cache = defineState({ sources: { plans: custom({ load: invalidPlans }) }, schema });
    const lines: string[] = [];
    const main = handler({ use: [state(cache)], logSink: (line) => void lines.push(line) }, async () => 'unreachable');
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'STATE_INVALID' });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'state could not be loaded')!;
    expect(logged).toBeDefined();
    for (const line of lines) expect(line.length).toBeLessThan(MAX_LINE);
    const failures = logged.failures as Array<Record<string, unknown>>;
    expect(failures[0]).toMatchObject({ source: 'plans', kind: 'invalid', field: 'plans.0.price', expected: 'number' });
    expect(failures.length + (logged.moreFailures as number)).toBe(ITEMS);
    // The error itself still names every failure.
    const error = await cache.get().catch((e: unknown) => e);
    expect((error as StateError).failures).toHaveLength(ITEMS);
  });

  it('serving the last good state: the same bound', async () => {
    let plans: Array<{ id: number; price: unknown }> = validPlans();
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({ sources: { plans: custom({ load: () => plans }) }, schema, maxAgeMs: 1_000, staleIfErrorMs: 60_000, now: clock.now, logger: log.logger });
    await cache.get();
    plans = invalidPlans();
    clock.advance(2_000);
    await cache.get();
    const warned = log.entries().find((l) => l.msg === 'serving the last good state: reload failed')!;
    expect(warned).toBeDefined();
    expect(JSON.stringify(warned).length).toBeLessThan(MAX_LINE);
    const failures = warned.failures as Array<Record<string, unknown>>;
    expect(failures[0]).toMatchObject({ field: 'plans.0.price' });
    expect(failures.length + (warned.moreFailures as number)).toBe(ITEMS);
  });
});
