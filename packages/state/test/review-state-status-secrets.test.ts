/**
 * Review: `cache.status()` is documented "for health checks and tests" — the kind of thing a
 * user returns from a `/health` route or logs. It must not carry the data. `envVars()` kept as
 * its version the JSON of every variable it read, values included, so
 * `status().versions.env` held `DB_PASSWORD`'s value in clear text. The version is now a
 * digest of those values: it still changes whenever one does.
 */
import { describe, expect, it } from 'vitest';
import { custom, defineState, envVars } from '../src/index.js';
import { logLines, manualClock } from './support.js';

const SECRET = 'hunter2-db-password';

describe('status() carries no data and no secret', () => {
  it('envVars: the version kept for a variable is not its value, and still changes with it', async () => {
    const env: Record<string, string> = { APP_DB_PASSWORD: SECRET, APP_REGION: 'eu-west-1' };
    const clock = manualClock();
    const cache = defineState({ sources: { env: envVars({ prefix: 'APP_', env }) }, maxAgeMs: 1_000, now: clock.now });
    expect(await cache.get()).toEqual({ env: { DB_PASSWORD: SECRET, REGION: 'eu-west-1' } });
    const status = cache.status();
    expect(JSON.stringify(status)).not.toContain(SECRET);
    expect(String(status.versions.env)).not.toContain(SECRET);
    expect(String(status.versions.env)).not.toContain('eu-west-1');
    env.APP_REGION = 'us-east-1';
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ env: { DB_PASSWORD: SECRET, REGION: 'us-east-1' } });
    expect(cache.status().versions.env).not.toEqual(status.versions.env);
  });

  it('a failed reload kept as lastError: its JSON has no message of the store client', async () => {
    const clock = manualClock();
    let fail = false;
    const cache = defineState({
      sources: {
        config: custom({
          load: () => {
            if (fail) throw new Error(`connect https://admin:${SECRET}@config.internal failed`);
            return { ok: true };
          },
        }),
      },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      now: clock.now,
      logger: logLines().logger,
    });
    await cache.get();
    fail = true;
    clock.advance(2_000);
    await cache.get();
    expect(cache.status().lastError).toMatchObject({ code: 'STATE_UNAVAILABLE' });
    expect(JSON.stringify(cache.status())).not.toContain(SECRET);
  });
});
