/**
 * The README's own client, `new Redis(url)` with ioredis's defaults: a command whose reply is
 * lost with its socket (a reset, a `CLIENT KILL`, a NAT dropping an idle connection) is sent
 * again after the reconnect (`autoResendUnfulfilledCommands`, on by default), and its first
 * run was applied. A claim, renewal or settle must answer what happened to the caller's own
 * request — not mistake the effect of its first run for someone else's: a claim answered
 * `claimed: false` with the caller's own record leaves the key held by nobody who knows it until
 * the lease runs out (node-redlock#48-style "lock acquired but reported as failed").
 * Shown on the shared Redis behind a proxy that loses the one reply.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore } from '../src/index.js';
import { requireService } from '../../../test/services/env.js';

/** A proxy to the shared Redis whose `loseNextReply()` drops the next reply chunk and resets that connection. */
async function replyLosingProxy(target: URL): Promise<{ port: number; loseNextReply(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let arm: (() => void) | undefined;
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port || 6379) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (arm) {
        const done = arm;
        arm = undefined;
        client.destroy();
        upstream.destroy();
        done();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return {
    port: address.port,
    loseNextReply: () => new Promise<void>((resolve) => (arm = resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let proxy: Awaited<ReturnType<typeof replyLosingProxy>>;
let redis: Redis;
let direct: Redis;
const prefix = `review-resent:${randomUUID()}:`;

beforeAll(async () => {
  await requireService('redis');
  proxy = await replyLosingProxy(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
  redis = new Redis(`redis://127.0.0.1:${proxy.port}`);
  direct = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  redis?.disconnect();
  const keys = await direct.keys(`${prefix}*`);
  if (keys.length) await direct.del(...keys);
  direct?.disconnect();
  await proxy?.close();
});

describe('redisLeaseStore on new Redis(url): a reply lost, the command resent by ioredis after its reconnect', () => {
  const store = () => redisLeaseStore({ client: redis, prefix });

  it('claim: claimed, with the fence the key holds', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    await redis.ping();
    const lost = proxy.loseNextReply();
    const claim = await store().claim({ key, owner, leaseMs: 60_000 });
    await lost;
    const record = await store().get(key);
    expect(record).toMatchObject({ state: 'held', owner });
    expect(claim).toMatchObject({ claimed: true, fence: record!.fence });
  });

  it('renew: renewed, with the fence the key holds', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    const claim = await store().claim({ key, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const lost = proxy.loseNextReply();
    const renewed = await store().renew({ key, owner, fence: claim.fence, leaseMs: 60_000 });
    await lost;
    const record = await store().get(key);
    expect(record).toMatchObject({ state: 'held', owner });
    expect(renewed).toMatchObject({ renewed: true, fence: record!.fence });
  });

  it('settle: true, the key released', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    const claim = await store().claim({ key, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const lost = proxy.loseNextReply();
    const settled = await store().settle({ key, owner, fence: claim.fence, data: 'done', keepMs: 60_000 });
    await lost;
    expect(await store().get(key)).toMatchObject({ state: 'done', data: 'done' });
    expect(settled).toBe(true);
  });
});
