/**
 * Replay of the "Redis failover losing a claim" class (powertools-lambda-python#1181's note that a
 * Redis record lives only as long as the node that holds it; node-redlock's README on failover):
 * a replica promoted before the primary's claim reached it. The primary (this file's own
 * redis-server) replicates to a replica through the cut proxy of `test/support/proxy.ts`; the link
 * is cut, an invocation claims its key on the primary, the primary is killed and the replica
 * promoted (`REPLICAOF NO ONE`), and the clients follow it (a getter, as a failover endpoint).
 * The claim is gone: the retry runs the function again — the limit both READMEs name — but the
 * first invocation, finishing later, cannot complete over the retry's record (its owner token is
 * not the holder's, though both hold fence 1 — each the first claim its server saw): it logs IDEMPOTENCY_LEASE_LOST and the retry's answer is
 * the one replayed.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type Proxy } from '../../../test/support/proxy.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { idempotency, redisStore } from '../src/index.js';
import { eventually, httpEvent, lambdaContext } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };

let primary: OwnServer & { url: string };
let replica: OwnServer & { url: string };
let link: Proxy;
const clients: Redis[] = [];
const client = (url: string): Redis => {
  const c = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  // No wait before the replica's first sync (Redis 7 waits 5 s for more replicas by default).
  primary = await startRedis(['--repl-diskless-sync-delay', '0']);
  link = await startProxy('127.0.0.1', primary.port);
  replica = await startRedis(['--replicaof', '127.0.0.1', String(link.port)]);
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await link?.cut().catch(() => undefined);
  await replica?.dispose();
  await primary?.dispose();
});

describe('a replica promoted before the primary replicated a claim', () => {
  it('the retry runs again (the documented limit); the first invocation cannot complete over it, and the retry\'s answer replays', async () => {
    const onPrimary = client(primary.url);
    const onReplica = client(replica.url);
    // Both instances reach "the primary" through a failover endpoint: the getter's current client.
    let current = onPrimary;
    // Two instances (two stores: neither knows the other's claims).
    const storeOf = () => redisStore({ client: () => current, prefix: 'failover:' });
    const lines: string[] = [];
    const releases: Array<() => void> = [];
    const gates = [0, 1].map(() => new Promise<void>((r) => releases.push(r)));
    let runs = 0;
    const fn = async () => {
      const run = ++runs;
      await gates[run - 1];
      return { run };
    };
    const first = handler({ name: 'orders', logSink: (l) => lines.push(l), logLevel: 'warn', use: [idempotency({ store: storeOf(), ttlMs: 3_600_000, localCache: false })] }, fn);
    const retry = handler({ name: 'orders', logSink: () => undefined, use: [idempotency({ store: storeOf(), ttlMs: 3_600_000, localCache: false })] }, fn);

    // The replica is in sync (a key written before the cut is there) …
    await onPrimary.set('failover:probe', '1');
    await eventually(async () => (await onReplica.get('failover:probe')) === '1', 10_000, 50);
    // … then its link is cut, and the claim is written to the primary alone.
    await link.cut();
    const key = randomUUID();
    const pending = first.aws(httpEvent({ key, body: { amount: 1 } }), lambdaContext(randomUUID(), 'orders', 60_000)) as Promise<LambdaHttp>;
    await eventually(() => runs === 1);
    await primary.stop(); // the primary dies with the claim
    await onReplica.call('REPLICAOF', 'NO', 'ONE');
    current = onReplica; // the endpoint now names the promoted replica

    const second = retry.aws(httpEvent({ key, body: { amount: 1 } }), lambdaContext()) as Promise<LambdaHttp>;
    await eventually(() => runs === 2);

    releases[0]!(); // the first invocation finishes first: it answers its caller, but its completion is refused
    const firstAnswer = await pending;
    expect(JSON.parse(firstAnswer.body)).toEqual({ run: 1 });
    expect(lines.join('\n')).toContain('IDEMPOTENCY_LEASE_LOST');
    releases[1]!();
    expect(JSON.parse((await second).body)).toEqual({ run: 2 });
    const later = (await retry.aws(httpEvent({ key, body: { amount: 1 } }), lambdaContext())) as LambdaHttp;
    expect(later.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(later.body)).toEqual({ run: 2 });
    expect(runs).toBe(2);
  }, 60_000);
});
