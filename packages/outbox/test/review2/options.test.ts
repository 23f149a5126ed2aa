/**
 * Review finding (misuse): options a user gets wrong were accepted and failed later, deep
 * inside, or silently did something else:
 *
 * - `mongoEmbeddedOutbox({ db })` / `mongoTransactionOutbox({ db })` with no `db`, or the
 *   `MongoClient` where the `Db` goes, failed the first invocation with `TypeError: … reading
 *   'collection'`; `mongoTransactionOutbox` without `client` failed inside the transaction.
 * - `mark: 'archive'` (a typo) on `redisOutbox` / `mongoTransactionOutbox` was taken as `'sent'`:
 *   events kept instead of deleted.
 * - `relay.poison` / `relay.sweep` that are not objects were ignored.
 * - `inbox({ s3 })` with something that is not an S3 client failed each claim-checked message.
 * - `inboxCleanup({})` threw `TypeError: Cannot read properties of undefined (reading 'find')`
 *   (now it takes `{ store }`: see inbox-cleanup.test.ts).
 *
 * Each is now a `ConfigurationError` naming the option, when the factory is called.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { redisStore } from '@steadyfn/idempotency';
import { redisLeaseStore } from '@steadyfn/lease';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectOptionRefused } from '../../../../test/support/config-errors.js';
import { inbox, inboxCleanup, mongoEmbeddedOutbox, mongoTransactionOutbox, outbox, redisOutbox } from '../../src/index.js';
import { sqsSender } from '../../src/sqs.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:1', { lazyConnect: true });
const mongo = new MongoClient(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:1/');
const db = mongo.db('never_used');
const sqs = new SQSClient({ region: 'us-east-1' });
afterAll(async () => {
  redis.disconnect();
  await mongo.close();
  sqs.destroy();
});

const events = { E: { aggregateType: 'order', schema: z.object({}) } };
const relay = () => ({ sender: sqsSender({ client: sqs, queueUrl: 'http://127.0.0.1:1/1/q' }), lease: redisLeaseStore({ client: redis }) });

describe('misused options are ConfigurationErrors naming the option', () => {
  it.each([
    ['mongoEmbeddedOutbox', 'db', () => mongoEmbeddedOutbox({ collection: 'orders', aggregateType: 'order' } as never), ['client.db(']],
    ['mongoEmbeddedOutbox', 'db', () => mongoEmbeddedOutbox({ db: mongo as never, collection: 'orders', aggregateType: 'order' }), ['client.db(']],
    ['mongoTransactionOutbox', 'db', () => mongoTransactionOutbox({ client: mongo } as never), ['client.db(']],
    ['mongoTransactionOutbox', 'client', () => mongoTransactionOutbox({ db } as never), ['MongoClient']],
    ['mongoTransactionOutbox', 'client', () => mongoTransactionOutbox({ client: db as never, db }), ['MongoClient']],
    ['mongoTransactionOutbox', 'mark', () => mongoTransactionOutbox({ client: mongo, db, mark: 'archive' as never }), ['"delete", "sent"']],
    ['redisOutbox', 'mark', () => redisOutbox({ client: redis, mark: 'archive' as never }), ['"delete", "sent"']],
    ['outbox', 'relay.poison', () => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay(), poison: 3 as never } }), ['maxAttempts']],
    ['outbox', 'relay.sweep', () => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay(), sweep: 'hourly' as never } }), ['graceMs']],
    ['outbox', 'relay.maxBytesPerRound', () => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay(), maxBytesPerRound: 0 } }), ['1024']],
    ['outbox', 'relay.maxBytesPerRound', () => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay(), maxBytesPerRound: '2MiB' as never } }), ['1024']],
    ['inbox', 'claimCheck.s3', () => inbox({ store: redisStore({ client: redis }), consumer: 'c', claimCheck: { s3: {}, commands: async () => ({}) } as never }), ['S3Client']],
  ] as Array<[string, string, () => unknown, string[]]>)('%s(): %s', (owner, field, make, mentions) => expectOptionRefused(make, owner, field, mentions));

  it('inboxCleanup() without a store rejects with a ConfigurationError, not a TypeError', async () => {
    await expect(inboxCleanup({} as never)).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'store' });
  });

  it('the right shapes are still accepted (a getter for db/client is checked at first use)', () => {
    expect(() => mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order' })).not.toThrow();
    expect(() => mongoEmbeddedOutbox({ db: () => db, collection: 'orders', aggregateType: 'order' })).not.toThrow();
    expect(() => mongoTransactionOutbox({ client: mongo, db, mark: 'sent' })).not.toThrow();
    expect(() => mongoTransactionOutbox({ client: () => mongo, db: () => db })).not.toThrow();
    expect(() => redisOutbox({ client: redis, mark: 'sent' })).not.toThrow();
    expect(() => outbox({ events, store: redisOutbox({ client: redis }), relay: { ...relay(), poison: { maxAttempts: 3 }, sweep: { graceMs: 0 } } })).not.toThrow();
  });
});

/**
 * Review finding: `mongoEmbeddedOutbox({ aggregateType: 'customer' })` with events declared for
 * `order` was accepted, and every invocation then failed with `OUTBOX_EVENT_INVALID` at run
 * time. An embedded outbox none of whose declared events is of the store's aggregate type is
 * now refused when it is defined (an `events` table shared with outboxes of other collections
 * is still fine as long as one declaration matches).
 */
describe('embedded outbox whose events are of another aggregate type', () => {
  const customers = () => mongoEmbeddedOutbox({ db, collection: 'customers', aggregateType: 'customer' });
  it('is refused, naming the declaration and the store aggregate type', () =>
    expectOptionRefused(() => outbox({ events, store: customers() }), 'outbox', 'events.E.aggregateType', ['"customer"', 'mongoEmbeddedOutbox']));
  it('a shared events table with one matching declaration is accepted', () => {
    expect(() => outbox({ events: { ...events, CustomerCreated: { aggregateType: 'customer', schema: z.object({}) } }, store: customers() })).not.toThrow();
  });
});

/**
 * Review finding: `sqsSender({ retry: { minTimeoutMs: 5000, maxTimeoutMs: 10 } })` was accepted
 * (a cap below the first wait); it is refused now. (`maxBatchBytes` above 1 MiB stays allowed:
 * the sender learns the real limit from a `BatchRequestTooLong` answer.)
 */
describe('sqsSender(): limits of its own options', () => {
  it.each([
    ['retry.maxTimeoutMs', () => sqsSender({ client: sqs, queueUrl: 'http://127.0.0.1:1/1/q', retry: { minTimeoutMs: 5000, maxTimeoutMs: 10 } }), ['retry.minTimeoutMs']],
  ] as Array<[string, () => unknown, string[]]>)('%s', (field, make, mentions) => expectOptionRefused(make, 'sqsSender', field, mentions));
  it('min = max is fine', () => {
    expect(() => sqsSender({ client: sqs, queueUrl: 'http://127.0.0.1:1/1/q', maxBatchBytes: 1_048_576, retry: { minTimeoutMs: 100, maxTimeoutMs: 100 } })).not.toThrow();
  });
});
