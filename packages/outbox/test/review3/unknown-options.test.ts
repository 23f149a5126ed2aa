/**
 * Review finding (unknown option keys): a typo such as `relay.poison.maxAtempts`, or an old
 * name such as `leaseMs`'s `lease`, was accepted and ignored, so the default stayed in force
 * without a word. Every factory — `outbox()` and its nested `relay`, `relay.poison`,
 * `relay.sweep`, `callerContext` and event declarations, the stores, `sqsSender()` with its
 * `claimCheck` and `retry`, `outboxWatchdog()`, `inbox()`, `inboxCleanup()`,
 * `transitions()` — now refuses a key it does not know with a `ConfigurationError` naming
 * the field's path and the keys it takes.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { redisStore } from '@steadyfn/idempotency';
import { redisLeaseStore } from '@steadyfn/lease';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectOptionRefused } from '../../../../test/support/config-errors.js';
import { inbox, inboxCleanup, mongoEmbeddedOutbox, mongoTransactionOutbox, outbox, redisOutbox, redisRelayStore, transitions } from '../../src/index.js';
import { outboxWatchdog, sqsSender } from '../../src/sqs.js';
import { resolveClaimCheck, s3ClaimCheck } from '../../src/s3.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:1', { lazyConnect: true });
const mongo = new MongoClient(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:1/');
const db = mongo.db('never_used');
const sqs = new SQSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
afterAll(async () => {
  redis.disconnect();
  await mongo.close();
  sqs.destroy();
  s3.destroy();
});

const events = { E: { aggregateType: 'order', schema: z.object({}) } };
const queueUrl = 'http://127.0.0.1:1/1/q';
const store = () => redisOutbox({ client: redis });
const relay = (extra: object = {}) => ({ sender: sqsSender({ client: sqs, queueUrl }), lease: redisLeaseStore({ client: redis }), ...extra });

describe('an option key a factory does not know is a ConfigurationError naming its path', () => {
  it('outbox(): top level, relay, relay.poison, relay.sweep, callerContext, an event declaration', () => {
    expectOptionRefused(() => outbox({ events, store: store(), relays: relay() } as never), 'outbox', 'relays', ['the options are name, events, store, relay, watchdog, callerContext']);
    expectOptionRefused(() => outbox({ events, store: store(), relay: relay({ lease: redisLeaseStore({ client: redis }), reserve: 5 }) } as never), 'outbox', 'relay.reserve', ['"reserveMs"']);
    expectOptionRefused(() => outbox({ events, store: store(), relay: relay({ poison: { maxAtempts: 5 } }) } as never), 'outbox', 'relay.poison.maxAtempts', ['maxAttempts, maxUnfinishedAttempts']);
    expectOptionRefused(() => outbox({ events, store: store(), relay: relay({ sweep: { grace: 0 } }) } as never), 'outbox', 'relay.sweep.grace', ['"graceMs"']);
    expectOptionRefused(() => outbox({ events, store: store(), callerContext: { allow: [], from: () => ({}), deny: [] } } as never), 'outbox', 'callerContext.deny', ['allow, from']);
    expectOptionRefused(() => outbox({ events: { E: { ...events.E, version: 2 } }, store: store() } as never), 'outbox', 'events.E.version', ['aggregateType, schema, schemaVersion']);
  });

  it('the stores', () => {
    expectOptionRefused(() => redisOutbox({ client: redis, appliedTtl: 1000 } as never), 'redisOutbox', 'appliedTtl', ['"appliedTtlMs"']);
    expectOptionRefused(() => redisRelayStore({ client: redis, marks: 'sent' } as never), 'redisRelayStore', 'marks', ['client, prefix, mark, lease']);
    expectOptionRefused(() => mongoEmbeddedOutbox({ db, collection: 'c', aggregateType: 'order', maxPending: 5 } as never), 'mongoEmbeddedOutbox', 'maxPending');
    expectOptionRefused(() => mongoTransactionOutbox({ client: mongo, db, collections: 'x' } as never), 'mongoTransactionOutbox', 'collections');
  });

  it('sqsSender() with its claimCheck (s3ClaimCheck) and retry, outboxWatchdog()', () => {
    expectOptionRefused(() => sqsSender({ client: sqs, queueUrl, maxMessageSize: 1024 } as never), 'sqsSender', 'maxMessageSize');
    expectOptionRefused(() => s3ClaimCheck({ s3, bucket: 'claims-b', threshold: 5 } as never), 's3ClaimCheck', 'threshold', ['s3, bucket, prefix, thresholdBytes']);
    expectOptionRefused(() => sqsSender({ client: sqs, queueUrl, retry: { retries: 1, maxTimeout: 5 } } as never), 'sqsSender', 'retry.maxTimeout', ['"maxTimeoutMs"']);
    expectOptionRefused(() => outboxWatchdog({ client: sqs, queueUrl, delay: 1000 } as never), 'outboxWatchdog', 'delay', ['"delayMs"']);
  });

  it('inbox(), inboxCleanup(), resolveClaimCheck(), transitions()', async () => {
    expectOptionRefused(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', retention: 5 } as never), 'inbox', 'retention', ['"retentionMs"']);
    await expect(inboxCleanup({ store: { purge: async () => ({ deleted: 0 }) }, limit: 5 } as never)).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'limit' });
    await expect(resolveClaimCheck({ body: 'x', attributes: {} }, { s3, sigal: undefined, singal: 1 } as never)).rejects.toMatchObject({ name: 'ConfigurationError', field: 'singal' });
    expectOptionRefused(() => transitions({ table: { a: [] }, store: store(), redisKeys: (id: string) => id } as never), 'transitions', 'redisKeys', ['table, store, field, redisKey, collection, alsoSet']);
  });

  it('every documented key, and keys holding undefined, are accepted', () => {
    expect(() =>
      outbox({
        name: 'o',
        events: { E: { ...events.E, schemaVersion: 1 } },
        store: redisOutbox({ client: redis, prefix: 'p:', mark: 'sent', appliedTtlMs: 1000, partitionTtlMs: 1000, lease: undefined }),
        relay: relay({ allowInProcessLease: false, flush: true, leaseMs: 1000, maxEventsPerAggregate: 5, poison: { maxAttempts: 2, maxUnfinishedAttempts: 2 }, reserveMs: 0, sweep: { graceMs: 0, maxAggregates: 1, chunk: 1, parallel: 1, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 } }),
        watchdog: outboxWatchdog({ client: sqs, queueUrl, delayMs: 1000 }),
        callerContext: { allow: ['t'], from: () => ({}) },
        extra: undefined,
      } as never),
    ).not.toThrow();
    expect(() => sqsSender({ client: sqs, queueUrl, maxMessageBytes: 'auto', maxBatchBytes: 262_144, fifo: false, onePerGroupPerBatch: true, invalidCharacters: 'base64', claimCheck: s3ClaimCheck({ s3, bucket: 'claims-b', prefix: 'c/', thresholdBytes: 1 }), retry: { retries: 1, factor: 2, minTimeoutMs: 1, maxTimeoutMs: 2 }, concurrency: 1 })).not.toThrow();
    expect(() => mongoEmbeddedOutbox({ db, collection: 'c', aggregateType: 'order', maxPendingEvents: 1, maxPendingBytes: 2048, maxAppliedKeys: 1, maxAnswerBytes: 0, atomicity: 'server', writeLeaseMs: 1000, writeWaitMs: 0 })).not.toThrow();
    expect(() => mongoTransactionOutbox({ client: mongo, db, collection: 'x', mark: 'sent', appliedTtlMs: 1000 })).not.toThrow();
    expect(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', retentionMs: 1000, leaseMs: 1000, allowShortLease: true, onGap: 'accept', maxGapRetries: 1, claimCheck: s3ClaimCheck({ s3 }), read: () => ({}) })).not.toThrow();
    expect(() => transitions({ table: { a: [] }, store: store(), field: 'status', redisKey: (id) => id, alsoSet: () => ({}) })).not.toThrow();
  });
});
