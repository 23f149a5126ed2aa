/**
 * Review findings:
 *
 * - `mongo({ uri: '…?serverSelectionTimeoutMS=500' })`: the platform profile's 5 000 ms
 *   replaced what the URI said (the driver lets an options object override the URI), so a
 *   user's URI options were silently ignored. The URI now wins over the profile; `options`
 *   still win over both.
 * - `connections({ log: handle })` / `{ signal: handle }`: the key becomes a ctx member and
 *   replaced the handler's own; it is refused when the plugin is defined.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis } from '../src/redis.js';

afterEach(closeAll);

const base = process.env.MONGODB_URI!.replace(/\/?$/, '/');

describe('mongo(): options written in the URI', () => {
  it('are kept over the platform profile (FerretDB)', async () => {
    const store = mongo({ uri: `${base}?serverSelectionTimeoutMS=1234&MAXPOOLSIZE=7`, provider: 'aws' });
    const { client } = await store.get();
    expect(client.options.serverSelectionTimeoutMS).toBe(1234);
    expect(client.options.maxPoolSize).toBe(7);
    // What the URI does not set still comes from the profile (aws: pool of 3 → here 7 from the URI; idle 60 s).
    expect(client.options.maxIdleTimeMS).toBe(60_000);
  });

  it('give way to `options`, which override both', async () => {
    const store = mongo({ uri: `${base}?serverSelectionTimeoutMS=1234`, options: { serverSelectionTimeoutMS: 2345 } });
    const { client } = await store.get();
    expect(client.options.serverSelectionTimeoutMS).toBe(2345);
  });

  it('a URI without options gets the profile', async () => {
    const store = mongo({ uri: base, provider: 'aws' });
    const { client } = await store.get();
    expect(client.options.serverSelectionTimeoutMS).toBe(5_000);
    expect(client.options.maxPoolSize).toBe(3);
  });
});

describe('connections(): handle keys are ctx members', () => {
  it.each(['log', 'signal', 'input', 'requestId'])('"%s" is refused when the plugin is defined', (key) => {
    try {
      connections({ [key]: redis() });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      expect(e).toMatchObject({ code: 'CONFIG_INVALID', field: `handles.${key}` });
    }
  });
});
