/**
 * A Redis claim through a getter that provably never reached the server is sent once more, on
 * the client the getter gives then. The case: a thawed instance whose server dropped the
 * connection while it was frozen — ioredis still says `ready`, but its socket's writable side has
 * ended (the server's FIN read, its `close` not yet), so the claim fails `Stream isn't writeable…`
 * (the `@steadyfn/connections` profile has no offline queue). Nothing of it can land later, so a
 * resend cannot break fencing; a connections handle asked again rebuilds the client. Before, the
 * claim rejected `LEASE_STORE_UNAVAILABLE` at once (an idempotent invocation answered 503).
 *
 * Here the half-closed socket is made by ending the client's stream ourselves, in the same tick
 * as the claim: the same state, without a freeze.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError, redisLeaseStore, type ClaimRequest } from '../src/index.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { failure } from './support/operations.js';

/** The options of `@steadyfn/connections`' Redis profile. */
const PROFILE = { enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false } as const;

let server: OwnServer & { url: string };
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.dispose();
});

async function connected(): Promise<Redis> {
  const c = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, ...PROFILE });
  c.on('error', () => undefined);
  clients.push(c);
  await c.connect();
  return c;
}

/** `c`, its socket's writable side ended: `status` still `ready`, every command refused unsent. */
function halfClosed(c: Redis): Redis {
  (c as unknown as { stream: { end(): void } }).stream.end();
  expect(c.status).toBe('ready');
  return c;
}

const request = (key = randomUUID()): ClaimRequest => ({ key, owner: `o-${randomUUID()}`, leaseMs: 600_000, data: 'd' });

describe('redisLeaseStore with a getter: a claim proven never sent goes once more on the getter\'s next client', () => {
  it('claim: the first client half closed, the getter\'s next one healthy — claimed, and the key holds this claim', async () => {
    const dead = await connected();
    const fresh = await connected();
    const given: Redis[] = [];
    const store = redisLeaseStore({ client: () => (given.push(given.length === 0 ? dead : fresh), given.at(-1)!), prefix: 'unsent-getter:' });
    halfClosed(dead);
    const r = request();
    const result = await store.claim(r);
    expect(result).toMatchObject({ claimed: true, fence: 1 });
    expect(given).toEqual([dead, fresh]);
    expect(await store.get(r.key)).toMatchObject({ state: 'held', owner: r.owner, fence: 1 });
  });

  it('claimMany: the same, one batch call sent once more', async () => {
    const dead = await connected();
    const fresh = await connected();
    let calls = 0;
    const store = redisLeaseStore({ client: () => (++calls === 1 ? dead : fresh), prefix: 'unsent-getter:' });
    halfClosed(dead);
    const results = await store.claimMany([request(), request()]);
    expect(results.map((x) => x.claimed)).toEqual([true, true]);
    expect(calls).toBe(2);
  });

  it('bounded: a getter that keeps giving the dead client is asked twice, then the claim rejects typed', async () => {
    const dead = halfClosed(await connected());
    let calls = 0;
    const store = redisLeaseStore({ client: () => (calls++, dead), prefix: 'unsent-getter:' });
    const error = await failure(store.claim(request()));
    expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
    expect(calls).toBe(2);
  });

  it('a fixed client (no getter) is not asked again: rejects typed at once, as before', async () => {
    const dead = halfClosed(await connected());
    const store = redisLeaseStore({ client: dead, prefix: 'unsent-getter:' });
    expect(await failure(store.claim(request()))).toBeInstanceOf(LeaseStoreUnavailableError);
  });
});
