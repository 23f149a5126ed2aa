/**
 * A MongoDB lease store on a raw driver client (no `@steadyfn/connections` handle) whose server
 * is down. The driver rejects each call with its own errors — `MongoServerSelectionError` once
 * `serverSelectionTimeoutMS` passes, `MongoNetworkError` or `MongoPoolClearedError` for a
 * connection lost under a call — which reached the caller raw: no stable code, retryable
 * unknown. Every operation now fails with `LeaseStoreUnavailableError`
 * (`LEASE_STORE_UNAVAILABLE`, 503, retryable, store `mongodb`), the driver's error as its cause
 * and no key, owner, data or port in its message; the same store works again once the server is
 * back. What is not about reaching the server passes through as it was: the caller's abort, an
 * already typed error from the collection getter, a record another program wrote.
 *
 * The server is this file's own FerretDB (startFerretDB), stopped and started here, never the
 * shared one. Needs `.services/bin/ferretdb-local` (built by test/services/services.sh).
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError, LeaseStoreUnavailableError, mongoLeaseStore, type MongoLeaseStore } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, type OwnServer } from '../../../test/support/servers.js';
import { leaseOperations, outcomes } from './support/operations.js';

const SECRET_KEY = `unavailable:${randomUUID()}`;
const SECRET_OWNER = `owner-${randomUUID()}`;
const SECRET_DATA = `data-${randomUUID()}`;

/** Every store operation once, each with its outcome (value or error). */
function everyOperation(store: MongoLeaseStore, fresh: MongoLeaseStore): Promise<Array<[string, unknown]>> {
  return outcomes([
    ...leaseOperations(store, { key: SECRET_KEY, owner: SECRET_OWNER, data: SECRET_DATA }),
    // `store` probed before the outage and keeps that result; a fresh store must probe the server.
    ['probe', () => fresh.probe()],
    ['purge', () => store.purge()],
    ['ensureIndexes', () => store.ensureIndexes()],
  ]);
}

describe.skipIf(!ferretdbAvailable())('mongoLeaseStore on a raw driver client whose server is stopped (needs .services/bin/ferretdb-local)', () => {
  let server: OwnServer & { uri: string };
  const clients: MongoClient[] = [];

  beforeAll(async () => {
    server = await startFerretDB();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server?.dispose();
  });

  /** A client that gives up selecting a server after 500 ms (the driver's default is 30 s). */
  async function client(): Promise<MongoClient> {
    const c = new MongoClient(server.uri, { serverSelectionTimeoutMS: 500, heartbeatFrequencyMS: 500 });
    clients.push(c);
    return c.connect();
  }

  it('every operation is LEASE_STORE_UNAVAILABLE with the driver error as cause; fine again once the server is back', async () => {
    const mongo = await client();
    const store = mongoLeaseStore({ collection: mongo.db('lease_unavailable').collection(`c${randomUUID()}`) });
    const fresh = mongoLeaseStore({ collection: () => mongo.db('lease_unavailable').collection(`c${randomUUID()}`) });
    expect(await store.claim({ key: `k:${randomUUID()}`, owner: 'a', leaseMs: 5_000 })).toMatchObject({ claimed: true, fence: 1 });

    await server.stop();
    try {
      for (const [operation, err] of await everyOperation(store, fresh)) {
        expect(err, operation).toBeInstanceOf(LeaseStoreUnavailableError);
        expect(err, operation).toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', status: 503, retryable: true, store: 'mongodb' });
        const { message, cause } = err as Error;
        expect((cause as Error | undefined)?.name ?? '', `${operation}: the driver's error is the cause`).toMatch(/^Mongo(ServerSelection|Network|NetworkTimeout|PoolCleared)Error$/);
        for (const secret of [SECRET_KEY, SECRET_OWNER, SECRET_DATA, String(server.port)]) expect(message, operation).not.toContain(secret);
      }
    } finally {
      await server.start();
    }
    expect(await store.claim({ key: `k:${randomUUID()}`, owner: 'b', leaseMs: 5_000 })).toMatchObject({ claimed: true, fence: 1 });
  }, 60_000);

  it("the caller's abort and a getter's typed error pass through unchanged while the server is down", async () => {
    const mongo = await client();
    const store = mongoLeaseStore({ collection: mongo.db('lease_unavailable').collection(`c${randomUUID()}`) });
    await server.stop();
    try {
      // Aborted while the driver is still selecting a server: the signal's reason, not "unavailable".
      const controller = new AbortController();
      const reason = new Error('the caller gave up');
      const pending = store.claim({ key: SECRET_KEY, owner: SECRET_OWNER, leaseMs: 1_000 }, { signal: controller.signal }).then(() => undefined, (e: unknown) => e);
      controller.abort(reason);
      expect(await pending).toBe(reason);

      // Already typed by the getter (e.g. a connections handle's CONNECTION_UNAVAILABLE): not wrapped again.
      const typed = new LeaseRecordUnreadableError();
      const passing = mongoLeaseStore({ collection: () => Promise.reject(typed) });
      expect(await passing.get('k').then(() => undefined, (e: unknown) => e)).toBe(typed);
    } finally {
      await server.start();
    }
  }, 60_000);

  it('a record another program wrote (the server answered) is LeaseRecordUnreadableError, not unavailable', async () => {
    const mongo = await client();
    const col = mongo.db('lease_unavailable').collection(`c${randomUUID()}`);
    const key = `foreign:${randomUUID()}`;
    await col.insertOne({ k: key, g: 'not a generation' });
    const err = await mongoLeaseStore({ collection: col, reads: 'query' }).get(key).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseRecordUnreadableError);
  }, 60_000);
});
