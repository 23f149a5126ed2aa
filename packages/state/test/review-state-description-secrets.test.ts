/**
 * Review: a source's `description` is put before each of its load failures. `custom()` invites a
 * URL there (`https://config.example/flags`); one with credentials — the address of the config
 * service as deployed, `https://svc:<token>@…` — went into `StateError.failures`, its message and
 * the "serving the last good state" warning in clear, where the failure's own message has its URL
 * credentials scrubbed. Now the description is scrubbed the same way.
 */
import { describe, expect, it } from 'vitest';
import { SourceError, StateError, custom, defineState } from '../src/index.js';
import { logLines, manualClock } from './support.js';

const TOKEN = 'tok3n-SECRET-value';
const description = `https://svc:${TOKEN}@config.example/flags`;

describe('a source description with URL credentials', () => {
  it('is scrubbed in the failure, the error message and the warning', async () => {
    const clock = manualClock();
    const log = logLines();
    let fail = false;
    const cache = defineState({
      sources: {
        flags: custom({
          description,
          load: async () => {
            if (fail) throw new SourceError('answered 503');
            return { on: true };
          },
        }),
      },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      logger: log.logger,
      now: clock.now,
    });
    const good = await cache.get();
    fail = true;
    clock.advance(1_000);
    expect(await cache.get()).toBe(good);
    const error = cache.status().lastError as StateError;
    expect(error.failures).toEqual([{ source: 'flags', kind: 'load', field: 'flags', message: 'https://[redacted]@config.example/flags: answered 503' }]);
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(log.entries())).not.toContain(TOKEN);
    expect(JSON.stringify(log.entries())).toContain('[redacted]@config.example/flags: answered 503');
  });
});
