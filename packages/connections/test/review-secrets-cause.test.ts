/**
 * A Redis password the server refuses, on a handle used directly (`await cache.get()`, the
 * README's way for a client only some invocations need, or a script): the error is the terminal
 * `CONNECTION_AUTH_FAILED` (before, the retryable `CONNECTION_UNAVAILABLE`;
 * test/review-auth-refused.test.ts) with the driver's error as its `cause` — and ioredis puts the command
 * it sent on that error (`command: { name: 'hello', args: ['3', 'AUTH', user, password] }`, or
 * `auth` with the password), so the password was printed by any `console.error(err)` or logger
 * that shows causes. The password must appear in no error (causes included, as `util.inspect`
 * prints them, and as JSON). A redis-server this file starts with `requirepass`.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { expectSecretNowhere } from './support/secrets.js';

const SECRET = 'review-cause-secret-Pw9';
let server: OwnServer & { url: string };
beforeAll(async () => {
  server = await startRedis(['--requirepass', 'the-right-one']);
});
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  await closeAll();
});

describe('a password the Redis server refuses, on a handle used directly', () => {
  it.each([
    ['in the URL, with a user', () => redis({ url: `redis://default:${SECRET}@127.0.0.1:${server.port}`, name: 'url-user' }), 'url'],
    ['in the URL, without a user', () => redis({ url: `redis://:${SECRET}@127.0.0.1:${server.port}`, name: 'url-nouser' }), 'url'],
    ['in options.password', () => redis({ url: server.url, options: { password: SECRET }, name: 'option' }), 'options.password'],
  ])('%s: CONNECTION_AUTH_FAILED naming where it is set, and the password in no part of the error', async (_label, make, field) => {
    const error = await make()
      .get()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toMatchObject({ code: 'CONNECTION_AUTH_FAILED', retryable: false, field });
    // The server's refusal stays as the cause (what an operator acts on)...
    expect(inspect(error, { depth: 10 })).toMatch(/WRONGPASS/);
    // ...without what the client sent with it.
    expectSecretNowhere(error, SECRET);
  });
});
