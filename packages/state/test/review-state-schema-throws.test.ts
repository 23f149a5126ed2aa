/**
 * Review: a schema that throws on a bad value instead of reporting an issue — a transform such as
 * `z.string().transform(JSON.parse)`, or a refinement calling `new URL(s)` — failed the state as
 * `STATE_UNAVAILABLE` (a store down, to an operator) with the source `(state)`, no field, and the
 * words `SyntaxError`: every source had loaded, the stored value was bad, and nothing said which.
 * Now it is `STATE_INVALID`, naming the source whose part of the schema throws (or the root), and
 * still never the value (the parser's message quotes it).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '@steadyfn/handler';
import { SourceError, custom, defineState } from '../src/index.js';
import { logLines, manualClock, stateErrorOf } from './support.js';

const SECRET = 'sk_live_SECRET_TOKEN';

function stateWith(schema: z.ZodType, token: () => string) {
  const clock = manualClock();
  const log = logLines();
  let version = 0;
  const cache = defineState({
    sources: {
      config: custom({ load: async () => ({ token: token() }), version: async () => ++version }),
      flags: custom({ load: async () => ({ on: true }) }),
    },
    schema,
    maxAgeMs: 1_000,
    staleIfErrorMs: 60_000,
    logger: log.logger,
    now: clock.now,
  });
  return { cache, clock, log };
}

describe('defineState(): a schema that throws on a stored value', () => {
  const parsed = z.object({ config: z.object({ token: z.string().transform((s) => JSON.parse(s) as unknown) }), flags: z.object({ on: z.boolean() }) });

  it('is STATE_INVALID naming the source, without the value', async () => {
    const { cache } = stateWith(parsed, () => SECRET);
    const error = await stateErrorOf(cache.get());
    expect(error).toMatchObject({ code: 'STATE_INVALID', status: 500, retryable: true });
    expect(error.failures).toEqual([{ source: 'config', kind: 'invalid', field: 'config', message: expect.stringContaining('the schema threw SyntaxError') }]);
    expect(JSON.stringify(error)).not.toContain('SECRET');
    expect(error.message).not.toContain('SECRET');
  });

  it.each([
    ['SourceError', (s: string) => new SourceError(`bad token ${s}`), 'the schema threw SourceError instead'],
    ['ConfigurationError', (s: string) => new ConfigurationError(`bad token ${s}`, { field: 'token', expected: 'a token' }), 'the schema threw ConfigurationError CONFIG_INVALID instead'],
  ])('a %s thrown by a transform keeps its class, never its message (it may quote the value)', async (_name, make, words) => {
    const throwing = z.object({ config: z.object({ token: z.string().transform((s) => { throw make(s); }) }), flags: z.object({ on: z.boolean() }) });
    const { cache } = stateWith(throwing, () => SECRET);
    const error = await stateErrorOf(cache.get());
    expect(error.failures).toEqual([{ source: 'config', kind: 'invalid', field: 'config', message: expect.stringContaining(words) }]);
    expect(JSON.stringify(error)).not.toContain('SECRET');
    expect(error.message).not.toContain('SECRET');
  });

  it('a warm instance serves the last good state with a warning naming the source, without the value', async () => {
    let token = '{"ok":1}';
    const { cache, clock, log } = stateWith(parsed, () => token);
    const good = await cache.get();
    token = SECRET;
    clock.advance(1_000);
    expect(await cache.get()).toBe(good);
    const warning = log.entries().find((e) => e.msg === 'serving the last good state: reload failed');
    expect(warning).toMatchObject({ code: 'STATE_INVALID', failures: [{ field: 'config', message: expect.stringContaining('the schema threw SyntaxError') }] });
    expect(JSON.stringify(log.entries())).not.toContain('SECRET');
    expect(cache.status().lastError).toMatchObject({ code: 'STATE_INVALID' });
  });

  it('a schema throwing on the whole state is put at the root', async () => {
    const whole = z.object({ config: z.object({ token: z.string() }), flags: z.object({ on: z.boolean() }) }).transform((s) => JSON.parse(s.config.token) as unknown);
    const { cache } = stateWith(whole, () => SECRET);
    const error = await stateErrorOf(cache.get());
    expect(error).toMatchObject({ code: 'STATE_INVALID', failures: [{ source: '(root)', kind: 'invalid', field: '' }] });
    expect(JSON.stringify(error)).not.toContain('SECRET');
  });
});
