/**
 * Review (L2): schema failures copied zod's messages verbatim, and a strict object's message
 * lists the extra keys by name — `Unrecognized key: "sk_live_abc123"`, a key NAME from the store,
 * i.e. data — into `failures[].message`, the error's message, the warning and the plugin's error
 * log, though the README says messages never contain the data. Now such an issue is counted
 * (`2 unrecognized keys`) at the path of the object holding the keys; messages naming only what
 * the schema expects (types, allowed values, bounds) are kept. Real Redis: the keys come from a
 * stored hash, as they would in production.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, redisHash, redisKey, state, type StateError } from '../src/index.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { logLines, redisClient, stateErrorOf, unique } from './support.js';

const SECRET_KEYS = ['sk_live_abc123', 'pk_test_zyx987'];

let client: Redis;
beforeAll(async () => {
  client = await redisClient();
});
afterAll(() => {
  client?.disconnect();
});

const schema = z.object({ flags: z.strictObject({ mode: z.enum(['on', 'off']), version: z.string() }) });

describe('a strict object schema meeting keys it does not name', () => {
  it('counts them: no key name in failures, the error message, the warning or the plugin log', async () => {
    const key = unique('{uk}flags');
    await client.hset(key, { mode: 'on', version: '1' });
    let t = 1_000_000;
    const log = logLines();
    const cache = defineState({
      sources: { flags: redisHash({ client, key, versionField: 'version' }) },
      schema,
      maxAgeMs: 1_000,
      staleIfErrorMs: 600_000,
      now: () => t,
      logger: log.logger,
    });
    expect(await cache.get()).toEqual({ flags: { mode: 'on', version: '1' } });

    // Another service writes two fields the schema does not know, and a bad mode.
    await client.hset(key, { [SECRET_KEYS[0]!]: 'x', [SECRET_KEYS[1]!]: 'y', mode: 'maybe', version: '2' });
    t += 2_000;
    expect(await cache.get()).toEqual({ flags: { mode: 'on', version: '1' } }); // the last good state
    const error = cache.status().lastError as StateError;
    expect(error.failures).toEqual(
      expect.arrayContaining([
        { source: 'flags', kind: 'invalid', field: 'flags', message: '2 unrecognized keys' },
        // The schema's own words are kept: the allowed values.
        expect.objectContaining({ field: 'flags.mode', expected: '"on" | "off"' }),
      ]),
    );
    const warning = log.entries().find((l) => l.msg === 'serving the last good state: reload failed');
    expect(warning).toBeDefined();

    // A first load through the handler: the plugin logs the failures at error level.
    const lines: string[] = [];
    const fresh = defineState({ sources: { flags: redisHash({ client, key, versionField: 'version' }) }, schema, logger: log.logger });
    const main = handler({ use: [state(fresh)], logSink: (line) => void lines.push(line) }, async () => ({ ok: true }));
    const deadline = Date.now() + 5_000;
    const res = (await main(apiGatewayV2({}), { awsRequestId: randomUUID(), functionName: 'f', getRemainingTimeInMillis: () => deadline - Date.now() })) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(500);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'state could not be loaded')).toMatchObject({
      failures: expect.arrayContaining([expect.objectContaining({ field: 'flags', message: '2 unrecognized keys' })]),
    });

    const direct = await stateErrorOf(fresh.get());
    for (const text of [error.message, direct.message, JSON.stringify(error.failures), JSON.stringify(log.entries()), lines.join('\n'), res.body]) {
      for (const name of SECRET_KEYS) expect(text).not.toContain(name);
    }
    await client.del(key);
  });

  it('one extra key is "1 unrecognized key"; a nested strict object reports at its own path', async () => {
    const key = unique('{uk}nested');
    await client.set(key, JSON.stringify({ db: { host: 'h', sk_live_abc123: true } }));
    const cache = defineState({ sources: { cfg: redisKey({ client, key }) }, schema: z.object({ cfg: z.object({ db: z.strictObject({ host: z.string() }) }) }) });
    const error = await stateErrorOf(cache.get());
    expect(error.failures).toEqual([{ source: 'cfg', kind: 'invalid', field: 'cfg.db', message: '1 unrecognized key' }]);
    expect(error.message).not.toContain('sk_live');
    await client.del(key);
  });
});
