/**
 * A Redis Cluster password the nodes refuse, on a `redisCluster()` handle used directly: the
 * connect error is the terminal `CONNECTION_AUTH_FAILED` naming where the password is set
 * (test/review-auth-refused.test.ts; before, the retryable `CONNECTION_UNAVAILABLE`); ioredis puts the AUTH/HELLO command it sent (with
 * the password) on each node's `ReplyError`, which a Cluster's connect error carries as its
 * `lastNodeError` and which stays in the cause chain. The password must appear in no part of the
 * error: message, causes, `lastNodeError`, command args (as `util.inspect` prints them, and as
 * JSON). A private 3-node cluster this file starts, then protects with `CONFIG SET requirepass`
 * (and `masterauth`) on every node: test/support/servers.ts' `startRedisCluster` probes its nodes
 * without a password.
 */
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';
import { expectSecretNowhere } from './support/secrets.js';

const SECRET = 'review-cluster-secret-Qx7';
let cluster: OwnCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
  for (const port of cluster.ports) {
    const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    await node.config('SET', 'masterauth', 'the-right-one');
    await node.config('SET', 'requirepass', 'the-right-one');
    node.disconnect();
  }
}, 60_000);
afterAll(async () => {
  await cluster.stop();
});
afterEach(async () => {
  await closeAll();
});

describe('a password the Redis Cluster nodes refuse, on a redisCluster() handle used directly', () => {
  it.each([
    ['in the node URLs', () => redisCluster({ nodes: cluster.ports.map((p) => `redis://default:${SECRET}@127.0.0.1:${p}`), name: 'cluster-url' }), 'nodes'],
    ['in redisOptions.password', () => redisCluster({ nodes: cluster.nodes, options: { redisOptions: { password: SECRET } }, name: 'cluster-option' }), 'options.redisOptions.password'],
  ])('%s: CONNECTION_AUTH_FAILED naming where it is set, and the password in no part of the error', async (_label, make, field) => {
    const error = await make()
      .get()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toMatchObject({ code: 'CONNECTION_AUTH_FAILED', retryable: false, field });
    const printed = inspect(error, { depth: 10, showHidden: true });
    // The refusal is the reason (an operator acts on it)...
    expect(printed).toMatch(/WRONGPASS|NOAUTH|invalid password/i);
    // ...without what the client sent with it.
    expectSecretNowhere(error, SECRET);
  });
});
