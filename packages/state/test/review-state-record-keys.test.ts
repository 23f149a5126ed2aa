/**
 * Review (D3): after unrecognized keys were counted, a record's keys still reached failures:
 * `z.record(z.string().regex(/^flag_/), z.boolean())` meeting `{ flag_a: true, sk_live_abc123:
 * true }` failed with field `flags.sk_live_abc123` and the error message `flags.sk_live_abc123:
 * Invalid key in record`, and a bad record VALUE put its key in the field and message too — key
 * names from the store, i.e. data, though the README says messages never contain the data. Now a
 * refused key is counted at the record's path (`2 keys not matching the schema`), and a path
 * segment the schema does not name itself is `*`. Real Redis: the keys come from a stored value.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z, type ZodType } from 'zod';
import { defineState, redisKey, type StateError } from '../src/index.js';
import { redisClient, stateErrorOf, unique } from './support.js';

const SECRETS = ['sk_live_abc123', 'pk_test_zyx987', 'acme_secret'];

let client: Redis;
beforeAll(async () => {
  client = await redisClient();
});
afterAll(() => {
  client?.disconnect();
});

/** The StateError of a first load of `value`, stored as JSON under one source, `name`. */
async function failureOf(name: string, value: unknown, schema: ZodType): Promise<StateError> {
  const key = unique('{rk}state');
  await client.set(key, JSON.stringify(value));
  try {
    const error = await stateErrorOf(defineState({ sources: { [name]: redisKey({ client, key }) }, schema }).get());
    for (const text of [error.message, JSON.stringify(error.failures)]) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
    return error;
  } finally {
    await client.del(key);
  }
}

const flagsSchema = z.object({ flags: z.record(z.string().regex(/^flag_/), z.boolean()) });

describe('record keys from the store never reach a failure', () => {
  it('keys a record refuses are counted at the record path, expected from the key schema', async () => {
    const one = await failureOf('flags', { flag_a: true, sk_live_abc123: true }, flagsSchema);
    expect(one.failures).toEqual([{ source: 'flags', kind: 'invalid', field: 'flags', message: '1 key not matching the schema', expected: 'string matching /^flag_/' }]);
    const two = await failureOf('flags', { flag_a: true, sk_live_abc123: true, pk_test_zyx987: false }, flagsSchema);
    expect(two.failures).toEqual([{ source: 'flags', kind: 'invalid', field: 'flags', message: '2 keys not matching the schema', expected: 'string matching /^flag_/' }]);
    expect(two.message).toContain('flags: 2 keys not matching the schema');
  });

  it('a bad record value is reported at `*` in place of its key', async () => {
    const error = await failureOf('flags', { flag_a: true, flag_sk_live_abc123: 'yes' }, z.object({ flags: z.record(z.string(), z.boolean()) }));
    expect(error.failures).toEqual([{ source: 'flags', kind: 'invalid', field: 'flags.*', message: 'Invalid input: expected boolean, received string', expected: 'boolean' }]);
  });

  it('keys the schema names (object shape, enum record keys, array indexes) are kept; catchall and nested record keys are masked', async () => {
    const schema = z.object({
      cfg: z.object({
        tenants: z.record(z.string(), z.object({ limit: z.number() })).optional(),
        regions: z.record(z.enum(['eu', 'us']), z.number()),
        list: z.array(z.object({ n: z.number() })),
        extra: z.object({ a: z.string() }).catchall(z.number()),
        piped: z.lazy(() => z.record(z.string(), z.number()).nullable().default({})),
      }),
    });
    const value = { tenants: { acme_secret: { limit: 'x' } }, regions: { eu: 'x', us: 1 }, list: [{ n: 1 }, { n: 'a' }], extra: { a: 'ok', pk_test_zyx987: 'y' }, piped: { sk_live_abc123: 'z' } };
    const error = await failureOf('cfg', value, schema);
    expect(error.failures.map((f) => f.field)).toEqual(['cfg.tenants.*.limit', 'cfg.regions.eu', 'cfg.list.1.n', 'cfg.extra.*', 'cfg.piped.*']);
  });
});
