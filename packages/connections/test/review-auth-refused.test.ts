/**
 * Credentials a Redis server refuses, against a redis-server this file owns with `requirepass`
 * (the shared Redis is left as it is). Before, a wrong or missing password failed every
 * invocation with the retryable 503 `CONNECTION_UNAVAILABLE`, logged only as `"cause":"ReplyError"`:
 * a queue retried the message until its dead-letter queue, and the log did not say the password
 * was wrong. Now it is a terminal `ConfigurationError` with the stable code
 * `CONNECTION_AUTH_FAILED`, naming the option that holds the credentials, and no password in the
 * error, its message or the log. The same for `mongo()` against the shared FerretDB (its
 * refusal is `MongoServerError` code 18, AuthenticationFailed).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, connections, CONNECTION_AUTH_FAILED } from '../src/index.js';
import { redis, type RedisClientOptions } from '../src/redis.js';
import { mongo } from '../src/mongodb.js';
import { requireService } from '../../../test/services/env.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';

const password = `pw-${randomUUID()}`;
const wrong = `wrong-${randomUUID()}`;
let server: (OwnServer & { url: string }) | undefined;
const lines: string[] = [];

// Without it, a handle with no `url` would use the shared Redis of REDIS_URL.
const sharedUrl = process.env.REDIS_URL;

beforeAll(async () => {
  delete process.env.REDIS_URL;
  server = await startRedis(['--requirepass', password]);
}, 30_000);

afterEach(async () => {
  await closeAll();
  lines.length = 0;
});

afterAll(async () => {
  if (sharedUrl !== undefined) process.env.REDIS_URL = sharedUrl;
  await server?.dispose();
});

const address = (): { host: string; port: number } => ({ host: '127.0.0.1', port: server!.port });

async function invoke(options: RedisClientOptions): Promise<unknown> {
  const main = handler({ use: [connections({ redis: redis(options) }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, async (_input, ctx) => ctx.redis.ping());
  return main.invoke({}).then(
    (value) => ({ value }),
    (err: unknown) => err,
  );
}

describe('credentials the Redis server refuses', () => {
  const cases: Array<[string, () => RedisClientOptions, string, RegExp]> = [
    ['a wrong password in the URL (WRONGPASS)', () => ({ url: `redis://:${wrong}@127.0.0.1:${server!.port}` }), 'url', /WRONGPASS/],
    ['no password at all (NOAUTH)', () => ({ url: server!.url }), 'url', /NOAUTH/],
    ['a wrong password in options.password', () => ({ options: { ...address(), password: wrong } }), 'options.password', /WRONGPASS/],
  ];
  for (const [name, options, field, said] of cases) {
    it(`${name}: terminal CONNECTION_AUTH_FAILED naming ${field}, no password anywhere`, async () => {
      const err = (await invoke(options())) as { code?: string; retryable?: boolean; message?: string };
      expect(err).toMatchObject({ code: CONNECTION_AUTH_FAILED, retryable: false });
      const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
      expect(failed).toMatchObject({ code: CONNECTION_AUTH_FAILED, retryable: false, field, cause: 'ReplyError' });
      expect(failed?.refused).toMatch(said);
      for (const text of [err.message ?? '', JSON.stringify(err), ...lines]) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(password);
      }
    });
  }

  it('the right password connects (the server is reachable: the refusals above are about credentials)', async () => {
    expect(await invoke({ url: `redis://:${password}@127.0.0.1:${server!.port}` })).toEqual({ value: 'PONG' });
  });
});

describe('credentials the MongoDB server refuses', () => {
  it('a wrong user and password in the URI: terminal CONNECTION_AUTH_FAILED naming uri, no password anywhere', async () => {
    await requireService('mongodb');
    const url = new URL(process.env.MONGODB_URI!);
    const main = handler({ use: [connections({ db: mongo({ uri: `mongodb://app:${wrong}@${url.host}/`, name: `auth-refused-${randomUUID()}` }) }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, () => 'unreachable');
    const err = (await main.invoke({}).then(() => undefined, (e: unknown) => e)) as { code?: string; retryable?: boolean; message?: string };
    expect(err).toMatchObject({ code: CONNECTION_AUTH_FAILED, retryable: false });
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
    expect(failed).toMatchObject({ code: CONNECTION_AUTH_FAILED, retryable: false, field: 'uri', refused: 'AuthenticationFailed', cause: 'MongoServerError' });
    for (const text of [err.message ?? '', JSON.stringify(err), ...lines]) expect(text).not.toContain(wrong);
  });
});
