/**
 * Review: `redisCluster({ nodes })` checked only that `nodes` is a non-empty array. A startup
 * node that cannot be an address — `'10.0.0.1:notaport'`, `{ host, port: '6379x' }`, a port of
 * 70000 — was found out at each connect as a retryable `CONNECTION_UNAVAILABLE` (ioredis'
 * `TypeError: Invalid URL`, or `Failed to refresh slots cache`): queues redelivered the message
 * until its dead-letter queue, for an error only a deploy fixes — where the same mistake in
 * `REDIS_CLUSTER_NODES`, or in `redis({ url })`, is a terminal `CONFIG_INVALID`. Each node is
 * checked now when the factory is called, naming `nodes.<i>` and never the value (a URL may
 * hold a password). The valid forms still connect, against the shared Cluster.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { closeAll } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { requireService } from '../../../test/services/env.js';

const first = (): { host: string; port: number } => {
  const [host, port] = (process.env.REDIS_CLUSTER_NODES ?? '').split(',')[0]!.split(':');
  return { host: host!, port: Number(port) };
};

beforeAll(async () => {
  await requireService('redis-cluster');
});
afterEach(closeAll);

describe('redisCluster() startup nodes', () => {
  const bad: unknown[] = ['http://127.0.0.1:6379', 'unix://127.0.0.1:6379', 'redis://:S3CRET%zz@127.0.0.1:6379', '127.0.0.1:notaport', 'redis://user:S3CRET@127.0.0.1:notaport', 'redis://127.0.0.1:70000', '', 0, 70_000, 1.5, { host: '127.0.0.1', port: 'x' }, { port: 70_000 }, { host: '' }, null];
  it.each(bad.map((node) => [JSON.stringify(node), node]))('%s: CONFIG_INVALID naming nodes.1 when redisCluster() is called', (_, node) => {
    let thrown: unknown;
    try {
      redisCluster({ nodes: [first(), node as never] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).field).toBe('nodes.1');
    expect((thrown as Error).message).not.toContain('S3CRET');
  });

  it('a password with a bare "%": the error asks for %25, the password not shown', () => {
    expect(() => redisCluster({ nodes: [`redis://u:S3CRET%zz@${first().host}:${first().port}`] })).toThrow(/%25/);
  });

  it('redis:// and rediss:// together: CONFIG_INVALID naming nodes', () => {
    const { host, port } = first();
    expect(() => redisCluster({ nodes: [`redis://${host}:${port}`, `rediss://${host}:${port + 1}`] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'nodes' }));
  });

  // ioredis Cluster never set `tls` from a rediss:// node: it answered PONG in plaintext. Now TLS is
  // on, so the plain shared Cluster cannot be reached through it.
  it('"rediss://host:port" connects with TLS: the plain Cluster is not reached', async () => {
    const handle = redisCluster({ nodes: [`rediss://${first().host}:${first().port}`], connectTimeoutMs: 2_000 });
    const outcome = await handle.read((c) => c.ping()).then(
      (pong) => pong,
      (error: unknown) => error,
    );
    expect(outcome).not.toBe('PONG');
    expect(outcome).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
  });

  it('"rediss://host:port" with options.redisOptions.tls given: the option decides (false: plaintext)', async () => {
    const handle = redisCluster({ nodes: [`rediss://${first().host}:${first().port}`], options: { redisOptions: { tls: false as never } } });
    expect(await handle.read((c) => c.ping())).toBe('PONG');
  });

  it.each([
    ['{ host, port }', () => first()],
    ['"host:port"', () => `${first().host}:${first().port}`],
    ['"redis://host:port"', () => `redis://${first().host}:${first().port}`],
  ])('%s still connects', async (_, node) => {
    const handle = redisCluster({ nodes: [node()] });
    expect(await handle.read((c) => c.ping())).toBe('PONG');
  });
});
