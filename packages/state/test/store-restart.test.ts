/**
 * State across a restart of its store. A Redis without persistence that restarts has lost the
 * value and its version key; the writer seeds both again, and `INCR` starts the version at 1 —
 * the very version the cached state was loaded at. A revalidation that saw the store empty in
 * between (version gone, reload failed, last good state served) must not then take the
 * repeated version for "unchanged" and serve the old value for ever.
 *
 * The server is this file's own on a free port (killed and started again here), never the
 * shared one.
 */
import { describe, expect, it } from 'vitest';
import { defineState, redisKey } from '../src/index.js';
import { logLines, ownRedis } from './support.js';

const rig = ownRedis();

/** What a deploy script does: the value, then the version bumped after it. */
async function seed(value: unknown): Promise<void> {
  await rig.writer.set('{app}:config', JSON.stringify(value));
  await rig.writer.incr('{app}:config:v');
}

describe('a Redis store that lost its data and was seeded again', () => {
  it('a version number that comes back after the loss is not taken for the version the state was loaded at', async () => {
    let clock = 0;
    const settings = defineState({
      sources: { config: redisKey({ client: rig.reader, key: '{app}:config', versionKey: '{app}:config:v' }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      retryAfterErrorMs: 0,
      now: () => clock,
      logger: logLines().logger,
    });
    await seed({ currency: 'EUR' });
    expect(await settings.get()).toEqual({ config: { currency: 'EUR' } });

    await rig.server.stop();
    await rig.server.start();
    clock += 2_000;
    // The store is empty: the reload fails and the last good state is served (staleIfErrorMs).
    expect(await settings.get()).toEqual({ config: { currency: 'EUR' } });

    await seed({ currency: 'CHF' });
    expect(await rig.writer.get('{app}:config:v')).toBe('1');
    clock += 2_000;
    expect(await settings.get()).toEqual({ config: { currency: 'CHF' } });
  });
});
