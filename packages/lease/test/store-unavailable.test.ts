/**
 * A lease store on a raw ioredis client (no `@steadyfn/connections` handle, no idempotency
 * plugin to type its failures) whose server is down. ioredis rejects each call with its own
 * errors — `MaxRetriesPerRequestError` once its per-request retries are spent, `Stream isn't
 * writeable …` with the offline queue off, `Connection is closed.` — which reached the caller
 * raw: no stable code, retryable unknown. Every operation now fails with
 * `LeaseStoreUnavailableError` (`LEASE_STORE_UNAVAILABLE`, 503, retryable), the driver's error
 * as its cause and no key, owner or data in its message; the same store works again once the
 * server is back.
 *
 * The server is this file's own (startRedis), stopped and started here, never the shared one.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError, LeaseStoreUnavailableError, redisLeaseStore, type LeaseStore } from '../src/index.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { leaseOperations, outcomes } from './support/operations.js';

let server: OwnServer & { url: string };
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.dispose();
});

function client(options: RedisOptions): Redis {
  // Reconnects every 50 ms while the server is down; its 'error' events are expected.
  const c = new Redis(server.url, { retryStrategy: () => 50, ...options });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

const SECRET_KEY = `unavailable:${randomUUID()}`;
const SECRET_OWNER = `owner-${randomUUID()}`;
const SECRET_DATA = `data-${randomUUID()}`;

/** Every store operation once, each with its outcome (value or error). */
const everyOperation = (store: LeaseStore): Promise<Array<[string, unknown]>> => outcomes(leaseOperations(store, { key: SECRET_KEY, owner: SECRET_OWNER, data: SECRET_DATA }));

function expectUnavailable(outcomes: Array<[string, unknown]>, causeName: RegExp): void {
  for (const [operation, err] of outcomes) {
    expect(err, operation).toBeInstanceOf(LeaseStoreUnavailableError);
    expect(err, operation).toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', status: 503, retryable: true, store: 'redis' });
    const { message, cause } = err as Error;
    expect((cause as Error | undefined)?.name ?? '', `${operation}: the driver's error is the cause`).toMatch(causeName);
    for (const secret of [SECRET_KEY, SECRET_OWNER, SECRET_DATA, String(server.port)]) expect(message, operation).not.toContain(secret);
  }
}

describe('redisLeaseStore on a raw ioredis client whose server is stopped', () => {
  it('maxRetriesPerRequest spent (MaxRetriesPerRequestError): every operation is LEASE_STORE_UNAVAILABLE; fine again once the server is back', async () => {
    const raw = client({ maxRetriesPerRequest: 1 });
    const store = redisLeaseStore({ client: raw, prefix: `unavailable-${randomUUID()}:` });
    const key = `k:${randomUUID()}`;
    expect(await store.claim({ key, owner: 'a', leaseMs: 5_000 })).toMatchObject({ claimed: true, fence: 1 });

    await server.stop();
    expectUnavailable(await everyOperation(store), /^MaxRetriesPerRequestError$/);

    await server.start();
    // No persistence: the key went with the server.
    expect(await store.claim({ key, owner: 'b', leaseMs: 5_000 })).toMatchObject({ claimed: true, fence: 1 });
  }, 60_000);

  it('offline queue off ("Stream isn\'t writeable"), the client from a getter: LEASE_STORE_UNAVAILABLE', async () => {
    const raw = client({ maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await raw.connect();
    const store = redisLeaseStore({ client: () => raw, prefix: `unavailable-${randomUUID()}:` });
    await server.stop();
    try {
      expectUnavailable(await everyOperation(store), /^Error$/);
      const [, claim] = (await everyOperation(store))[0]!;
      expect(((claim as Error).cause as Error).message).toMatch(/^Stream isn't writeable/);
    } finally {
      await server.start();
    }
  }, 60_000);

  it('a getter that fails as the driver does (connect() refused) is LEASE_STORE_UNAVAILABLE; a getter\'s typed error and a server\'s answer pass through', async () => {
    await server.stop();
    try {
      const refused = redisLeaseStore({
        client: async () => {
          const c = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
          c.on('error', () => undefined);
          clients.push(c);
          await c.connect();
          return c;
        },
      });
      const err = await refused.claim({ key: SECRET_KEY, owner: SECRET_OWNER, leaseMs: 1_000 }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LeaseStoreUnavailableError);

      // Already typed (e.g. a connections handle's CONNECTION_UNAVAILABLE): not wrapped again.
      const typed = new LeaseRecordUnreadableError();
      const passing = redisLeaseStore({ client: () => Promise.reject(typed) });
      expect(await passing.get('k').then(() => undefined, (e: unknown) => e)).toBe(typed);
    } finally {
      await server.start();
    }
    // The server answered (a key another program wrote): its own error, not "unavailable".
    const raw = client({ maxRetriesPerRequest: 1 });
    const prefix = `unavailable-${randomUUID()}:`;
    await raw.set(`${prefix}foreign`, 'not a lease');
    const err = await redisLeaseStore({ client: raw, prefix }).claim({ key: 'foreign', owner: 'a', leaseMs: 1_000 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseRecordUnreadableError);
  }, 60_000);
});
