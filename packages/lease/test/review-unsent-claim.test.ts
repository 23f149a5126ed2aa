/**
 * A Redis claim that provably never reached the server holds nothing, so it fails at once: no
 * give-back (`GIVE_BACK`, up to 2 s of retries against a server that is not there) is sent.
 * What ioredis (6) does, read in its source and shown here on real servers:
 *
 * - offline queue off, no connection (server stopped): the command is rejected before any byte
 *   is written, "Stream isn't writeable and enableOfflineQueue options is false";
 * - offline queue on, the client not connected when the claim is sent and never ready before the
 *   rejection (a closed port): the command waited in the offline queue and was flushed from it
 *   with `MaxRetriesPerRequestError` (retries per request spent) or "Connection is closed."
 *   (the client gave up reconnecting) — never written.
 *
 * Not proof, so the give-back still runs: `MaxRetriesPerRequestError` also rejects commands
 * already WRITTEN when a connection closes (ioredis flushes its command queue too) — a claim the
 * server applied, its reply lost; so does a command that sat in the offline queue, was written
 * once the client reconnected, and then lost its reply. And "Command timed out" (a paused
 * server) follows a written command.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError, redisLeaseStore, type ClaimRequest } from '../src/index.js';
import { GIVE_BACK } from '../src/stores/redis-settle-scripts.js';
import { freePort, startRedis } from '../../../test/support/servers.js';
import { proxiedRedis } from './support/proxied-redis.js';
import { failure } from './support/operations.js';

/** The options of `@steadyfn/connections`' Redis profile. */
const PROFILE = { enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false } as const;

/** Counts the give-back scripts the store hands to the (real) client. */
function countGiveBacks(client: Redis): { readonly count: number } {
  let count = 0;
  const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const evalSource = client.eval.bind(client) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    evalsha: (...args: unknown[]) => {
      if (args[0] === GIVE_BACK.sha) count++;
      return evalsha(...args);
    },
    eval: (...args: unknown[]) => {
      if (args[0] === GIVE_BACK.source) count++;
      return evalSource(...args);
    },
  });
  return {
    get count() {
      return count;
    },
  };
}

function expectUnavailable(error: unknown): void {
  expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
  expect((error as LeaseStoreUnavailableError).code).toBe('LEASE_STORE_UNAVAILABLE');
}

/** Waits (up to 5 s) for `client`'s status to be `status`. */
async function status(client: Redis, wanted: (s: string) => boolean): Promise<void> {
  for (let i = 0; i < 100 && !wanted(client.status); i++) await new Promise((r) => setTimeout(r, 50));
  expect(wanted(client.status), client.status).toBe(true);
}

const request = (key = randomUUID()): ClaimRequest => ({ key, owner: `o-${randomUUID()}`, leaseMs: 600_000, data: 'd' });

describe('redisLeaseStore: a claim that never reached the server gives nothing back', () => {
  it('server stopped, offline queue off: claim and claimMany fail typed, no give-back sent', async () => {
    const server = await startRedis();
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, ...PROFILE });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const store = redisLeaseStore({ client, prefix: 'unsent:' });
      expect((await store.claim(request())).claimed).toBe(true);
      await server.stop();
      await status(client, (s) => s !== 'ready');
      const giveBacks = countGiveBacks(client);
      expectUnavailable(await failure(store.claim(request())));
      expectUnavailable(await failure(store.claimMany([request(), request()])));
      expect(giveBacks.count).toBe(0);
    } finally {
      client.disconnect();
      await server.dispose();
    }
  });

  it('closed port, offline queue on: retries per request spent (MaxRetriesPerRequestError), no give-back sent', async () => {
    const client = new Redis({ host: '127.0.0.1', port: await freePort(), maxRetriesPerRequest: 1, retryStrategy: () => 10 });
    client.on('error', () => undefined);
    try {
      const store = redisLeaseStore({ client, prefix: 'unsent:' });
      const giveBacks = countGiveBacks(client);
      const error = await failure(store.claim(request()));
      expectUnavailable(error);
      expect((error as Error).cause).toMatchObject({ name: 'MaxRetriesPerRequestError' });
      expectUnavailable(await failure(store.claimMany([request(), request()])));
      expect(giveBacks.count).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('closed port, the client giving up reconnecting ("Connection is closed."): no give-back sent', async () => {
    const client = new Redis({ host: '127.0.0.1', port: await freePort(), retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      const store = redisLeaseStore({ client, prefix: 'unsent:' });
      const giveBacks = countGiveBacks(client);
      const error = await failure(store.claim(request()));
      expectUnavailable(error);
      expect(((error as Error).cause as Error).message).toMatch(/Connection is closed/);
      // Now ended: rejected before any write.
      expectUnavailable(await failure(store.claim(request())));
      expectUnavailable(await failure(store.claimMany([request(), request()])));
      expect(giveBacks.count).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});

describe('redisLeaseStore: a claim that may have been written is still given back', () => {
  const rig = proxiedRedis('review-unsent', async (direct, prefix) => {
    // Every script loaded, so a cut reply is the claim's own, not a NOSCRIPT before it.
    const warm = redisLeaseStore({ client: direct, prefix });
    await warm.claim({ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 });
    await warm.claimMany([{ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 }]);
  });

  it('reply lost after the server applied it, rejected with MaxRetriesPerRequestError: given back, the key free', async () => {
    const { proxy, direct, prefix } = rig;
    const client = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const store = redisLeaseStore({ client, prefix });
      const giveBacks = countGiveBacks(client);
      for (const many of [false, true]) {
        const r = request();
        proxy.on(r.key, 'cut');
        const error = await failure(many ? store.claimMany([r]) : store.claim(r));
        expectUnavailable(error);
        expect((error as Error).cause).toMatchObject({ name: 'MaxRetriesPerRequestError' });
        expect(await redisLeaseStore({ client: direct, prefix }).get(r.key)).toBeUndefined();
      }
      expect(giveBacks.count).toBeGreaterThanOrEqual(2);
    } finally {
      client.disconnect();
    }
  });

  it('sent while reconnecting, written once ready, its reply lost: given back, the key free', async () => {
    const { proxy, direct, prefix } = rig;
    const client = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const store = redisLeaseStore({ client, prefix });
      const giveBacks = countGiveBacks(client);
      const r = request();
      proxy.on(r.key, 'cut');
      client.disconnect(true);
      await once(client, 'reconnecting');
      expect(client.status).toBe('reconnecting');
      const error = await failure(store.claim(r));
      expectUnavailable(error);
      expect(proxy.cuts).toBeGreaterThanOrEqual(1);
      expect(giveBacks.count).toBeGreaterThanOrEqual(1);
      expect(await redisLeaseStore({ client: direct, prefix }).get(r.key)).toBeUndefined();
    } finally {
      client.disconnect();
    }
  });

  it('server paused (SIGSTOP), the claim written and timed out: a give-back is sent after it and frees the key', async () => {
    const { prefix } = rig;
    const server = await startRedis();
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, ...PROFILE, commandTimeout: 300 });
    client.on('error', () => undefined);
    const check = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
    try {
      await client.connect();
      await check.connect();
      const store = redisLeaseStore({ client, prefix });
      await store.claim(request());
      // A fresh server: the give-back's script loaded now (the give-back is sent by EVAL anyway since
      // review-claim-timeout.test.ts; loaded, this test does not depend on that).
      await client.script('LOAD', GIVE_BACK.source);
      const giveBacks = countGiveBacks(client);
      const r = request();
      server.freeze();
      const error = await failure(store.claim(r));
      expectUnavailable(error);
      expect(((error as Error).cause as Error).message).toMatch(/Command timed out/);
      expect(giveBacks.count).toBeGreaterThanOrEqual(1);
      server.thaw();
      // Answered after everything written before it on the same connection (the claim, then its give-backs).
      await client.ping();
      expect(await redisLeaseStore({ client: check, prefix }).get(r.key)).toBeUndefined();
    } finally {
      server.thaw();
      client.disconnect();
      check.disconnect();
      await server.dispose();
    }
  });
});
