import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox } from './plugin.js';
import { inbox } from './inbox.js';
import { mongoEmbeddedOutbox } from './stores/mongo-embedded.js';
import { redisOutbox } from './stores/redis.js';
import { mongoTransactionOutbox } from './stores/mongo-collection.js';
import { sqsSender } from './sqs/sender.js';
import { memoryStore } from '@steadyfn/idempotency';
import { memoryLeaseStore } from '@steadyfn/lease';
import { s3ClaimCheck } from './s3.js';

const events = { E: { aggregateType: 'a', schema: z.object({}) } };
const redis = { isCluster: false, evalsha: async () => null, eval: async () => null, call: async () => null };

function configError(fn: () => unknown): { code: string; field: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as never;
  }
  throw new Error('no error');
}

describe('options are validated up front', () => {
  it('outbox(): names the option, what was expected and what was given', () => {
    expect(configError(() => outbox({ events: {}, store: redisOutbox({ client: redis }) }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'events' });
    expect(configError(() => outbox({ events, store: {} as never }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'store' });
    const relay = { sender: { fifo: false, send: async () => ({}) as never }, lease: memoryLeaseStore(), allowInProcessLease: true };
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay, leaseMs: -1 } }))).toMatchObject({
      field: 'relay.leaseMs',
      message: 'outbox(): option "relay.leaseMs" must be a whole number of milliseconds ≥ 100; got -1',
    });
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay, sender: {} as never } }))).toMatchObject({ field: 'relay.sender' });
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay, lease: { claim: async () => ({}) } as never } }))).toMatchObject({ field: 'relay.lease' });
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay, sweep: { pruneLimit: -1 } } }))).toMatchObject({ field: 'relay.sweep.pruneLimit' });
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), name: 'has space' }))).toMatchObject({ field: 'name' });
  });

  it('relay.lease: an in-process lease store is refused unless allowInProcessLease opts in (single-process tests)', () => {
    const sender = { fifo: false, send: async () => ({}) as never };
    const refused = configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { sender, lease: memoryLeaseStore() } }));
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', field: 'relay.lease' });
    expect(refused.message).toMatch(/^outbox\(\): option "relay\.lease" must be a @steadyfn\/lease store every relay reaches: .*relay\.allowInProcessLease: true/);
    expect((refused as unknown as { issues: Array<{ expected: string }> }).issues[0]!.expected).toContain('redisLeaseStore');
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { sender, lease: memoryLeaseStore(), allowInProcessLease: 'yes' as never } }))).toMatchObject({ field: 'relay.allowInProcessLease' });
    expect(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { sender, lease: memoryLeaseStore(), allowInProcessLease: true } })).not.toThrow();
    // A store without the brand (every shared store) is taken as before, whatever it is called.
    const inner = memoryLeaseStore();
    const unbranded = { claim: inner.claim, claimMany: inner.claimMany, settle: inner.settle, settleMany: inner.settleMany, renew: inner.renew, get: inner.get };
    expect(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { sender, lease: unbranded } })).not.toThrow();
    // A wrapper that spreads the memory store keeps its brand, and is refused too.
    expect(configError(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { sender, lease: { ...memoryLeaseStore() } } }))).toMatchObject({ field: 'relay.lease' });
  });

  it('relay.lease refusals say what a relay lease store is, how to make one, and what was given', () => {
    const sender = { fifo: false, send: async () => ({}) as never };
    const store = redisOutbox({ client: redis });
    const shared = "a @steadyfn/lease store every relay reaches: redisLeaseStore({ client }) on the outbox's Redis server and database, or mongoLeaseStore({ collection })";
    // The Redis client itself where its lease store belongs: the methods it lacks are named.
    const notAStore = configError(() => outbox({ events, store, relay: { sender, lease: redis as never } }));
    expect(notAStore).toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'relay.lease',
      message: `outbox(): option "relay.lease" must be ${shared}, not the client or collection itself (it must have claim, claimMany, settle, settleMany); got an object without claim, claimMany, settle, settleMany`,
    });
    const partial = configError(() => outbox({ events, store, relay: { sender, lease: { claim: async () => ({}), settle: async () => true } as never } }));
    expect(partial.message).toMatch(/; got an object without claimMany, settleMany$/);
    expect(configError(() => outbox({ events, store, relay: { sender } as never })).message).toMatch(/^outbox\(\): option "relay\.lease" must be a @steadyfn\/lease store .*; got undefined$/);
    // An in-process store: the option that admits it, by its full name, and why it is refused.
    const inProcess = configError(() => outbox({ events, store, relay: { sender, lease: memoryLeaseStore() } }));
    expect(inProcess.message).toBe(
      `outbox(): option "relay.lease" must be ${shared}; memoryLeaseStore only with relay.allowInProcessLease: true, in a single-process test; got memoryLeaseStore(), whose leases this process alone sees: two instances would relay one aggregate at once`,
    );
  });

  it('relay.leaseMs below twice the embedded store\'s writeWaitMs, where writers take the write lease (FerretDB), is refused naming both', async () => {
    // A round's marks wait up to writeWaitMs for the document's write lease: a lease the wait can
    // use up runs out before the marks round after round (each holder fenced by the next).
    const relay = { sender: { fifo: false, send: async () => ({}) as never }, lease: memoryLeaseStore(), allowInProcessLease: true };
    const writeLease = memoryLeaseStore();
    // A Db double answering buildInfo as FerretDB or MongoDB does (what atomicity 'auto' asks).
    const server = (ferret: boolean) => () => ({ collection: () => ({}), command: async () => (ferret ? { version: '7.0.77', ferretdb: { version: 'v2' } } : { version: '7.0.14' }) }) as never;
    const embedded = (options: Record<string, unknown> = {}) => mongoEmbeddedOutbox({ db: server(true), collection: 'c', aggregateType: 'a', writeLease, atomicity: 'lease', ...options });
    const refused = configError(() => outbox({ events, store: embedded({ writeWaitMs: 20_000 }), relay: { ...relay, leaseMs: 10_000 } }));
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', field: 'relay.leaseMs' });
    expect(refused.message).toMatch(/^outbox\(\): option "relay\.leaseMs" must be at least 40000 ms, twice mongoEmbeddedOutbox's "writeWaitMs" \(20000 ms\).*; got 10000$/);
    // The default wait (2 s) asks 4 s; the defaults (30 s, 2 s) and exactly twice pass.
    expect(configError(() => outbox({ events, store: embedded(), relay: { ...relay, leaseMs: 3_999 } }))).toMatchObject({ field: 'relay.leaseMs' });
    expect(() => outbox({ events, store: embedded(), relay })).not.toThrow();
    expect(() => outbox({ events, store: embedded({ writeWaitMs: 5_000 }), relay: { ...relay, leaseMs: 10_000 } })).not.toThrow();
    // Writers that never wait: MongoDB's atomic updates, or no write lease to wait for.
    expect(() => outbox({ events, store: embedded({ writeWaitMs: 20_000, atomicity: 'server' }), relay: { ...relay, leaseMs: 1_000 } })).not.toThrow();
    expect(() => outbox({ events, store: mongoEmbeddedOutbox({ db: () => ({}) as never, collection: 'c', aggregateType: 'a', writeWaitMs: 20_000 }), relay: { ...relay, leaseMs: 1_000 } })).not.toThrow();
    expect(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay, leaseMs: 100 } })).not.toThrow();

    // atomicity 'auto' (the default) with a writeLease: the server decides. Before, outbox()
    // refused such a lease up front even on MongoDB, where 'auto' never takes the write lease.
    const auto = (ferret: boolean) => mongoEmbeddedOutbox({ db: server(ferret), collection: 'c', aggregateType: 'a', writeLease, writeWaitMs: 20_000 });
    const ctx = { signal: new AbortController().signal, remainingMs: () => 60_000, log: { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined } as never };
    const onMongo = outbox({ events, store: auto(false), relay: { ...relay, leaseMs: 10_000 } });
    await expect(onMongo.flushTargets(ctx, [])).resolves.toBeDefined();
    // On FerretDB it is refused once the server is known, before anything is read or sent.
    const onFerret = outbox({ events, store: auto(true), relay: { ...relay, leaseMs: 10_000 } });
    const late = await onFerret.flushTargets(ctx, []).then(() => undefined, (e: unknown) => e);
    expect(late).toMatchObject({ code: 'CONFIG_INVALID', field: 'relay.leaseMs', message: expect.stringMatching(/^outbox\(\): option "relay\.leaseMs" must be at least 40000 ms/) });
    await expect(outbox({ events, store: auto(true), relay: { ...relay, leaseMs: 40_000 } }).flushTargets(ctx, [])).resolves.toBeDefined();
  });

  it('stores and inbox validate theirs', () => {
    expect(configError(() => redisOutbox({ client: redis, prefix: 'a{b}' }))).toMatchObject({ field: 'prefix' });
    expect(configError(() => redisOutbox({ client: redis, appliedTtlMs: 0 }))).toMatchObject({ field: 'appliedTtlMs' });
    expect(configError(() => redisOutbox({ client: redis, partitionTtlMs: 10 }))).toMatchObject({ field: 'partitionTtlMs' });
    expect(configError(() => mongoEmbeddedOutbox({ db: {} as never, collection: 'c', aggregateType: 'a', maxAnswerBytes: -1 }))).toMatchObject({ field: 'maxAnswerBytes' });
    expect(configError(() => mongoEmbeddedOutbox({ db: {} as never, collection: 'c', aggregateType: 'a', maxPendingBytes: 64 * 1024 * 1024 }))).toMatchObject({ field: 'maxPendingBytes' });
    expect(configError(() => mongoEmbeddedOutbox({ db: {} as never, collection: 'c', aggregateType: 'a', atomicity: 'maybe' as never }))).toMatchObject({ field: 'atomicity' });
    expect(configError(() => inbox({ store: memoryStore(), consumer: '' }))).toMatchObject({ field: 'consumer' });
    expect(configError(() => inbox({ store: memoryStore(), consumer: 'c', retentionMs: 1.5 }))).toMatchObject({ field: 'retentionMs' });
    expect(configError(() => inbox({ store: memoryStore(), consumer: 'c', onGap: 'skip' as never }))).toMatchObject({ field: 'onGap' });
  });

  it('names S3 and MongoDB would refuse at the first use are refused up front: the claim-check bucket, the collections', () => {
    // Before, only "a non-empty string" was asked: the first large event failed in S3
    // (InvalidBucketName), the first write in the driver (an untyped MongoInvalidArgumentError).
    const client = { send: async () => ({}) };
    const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';
    for (const bucket of ['Orders', 'my_bucket', 'ab', 'a'.repeat(64), 'orders..large', '-orders', 'orders.', '192.168.1.1']) {
      // Refused where the claim check is made, s3ClaimCheck() (@steadyfn/outbox/s3).
      const refused = configError(() => sqsSender({ client: client as never, queueUrl, claimCheck: s3ClaimCheck({ s3: client, bucket }) }));
      expect(refused, bucket).toMatchObject({ code: 'CONFIG_INVALID', field: 'bucket' });
      expect(refused.message).toMatch(/^s3ClaimCheck\(\): option "bucket" must be an S3 bucket name: 3-63 characters of a-z 0-9 \. -/);
    }
    // An access point ARN is what the SDK takes as Bucket too (it was refused as "not a bucket name").
    const arns = ['arn:aws:s3:us-east-1:123456789012:accesspoint/claims', 'arn:aws:s3::123456789012:accesspoint/abc.mrap', 'arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/claims'];
    for (const bucket of ['orders-large-events', 'a.b.c', 'abc', 'a'.repeat(63), 'logs--usw2-az1--x-s3', ...arns]) {
      expect(() => sqsSender({ client: client as never, queueUrl, claimCheck: s3ClaimCheck({ s3: client, bucket }) }), bucket).not.toThrow();
    }
    for (const collection of ['orders$x', 'system.orders', '.orders', 'o\u0000x', '']) {
      const refused = configError(() => mongoEmbeddedOutbox({ db: () => ({}) as never, collection, aggregateType: 'a' }));
      expect(refused, collection).toMatchObject({ code: 'CONFIG_INVALID', field: 'collection' });
      expect(refused.message).toMatch(/^mongoEmbeddedOutbox\(\): option "collection" must be a MongoDB collection name/);
      expect(configError(() => mongoTransactionOutbox({ client: { startSession: () => ({}) } as never, db: () => ({}) as never, collection }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'collection' });
    }
    // The server's rule, no stricter: a trailing dot and `..` are names MongoDB and FerretDB take.
    for (const collection of ['shop.orders-2026_a', 'orders.', 'a..b']) {
      expect(() => mongoEmbeddedOutbox({ db: () => ({}) as never, collection, aggregateType: 'a' }), collection).not.toThrow();
      expect(() => mongoTransactionOutbox({ client: { startSession: () => ({}) } as never, db: () => ({}) as never, collection }), collection).not.toThrow();
    }
    expect(() => mongoTransactionOutbox({ client: { startSession: () => ({}) } as never, db: () => ({}) as never })).not.toThrow();
  });

  it('a relay entry point without a relay is a configuration error', async () => {
    const o = outbox({ events, store: redisOutbox({ client: redis }) });
    await expect(o.sweep({ signal: new AbortController().signal, remainingMs: () => 1000, log: console as never })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'relay' });
  });
});
