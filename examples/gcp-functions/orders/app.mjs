// The orders application's building blocks, made once per instance (module scope) and shared
// by every function of this folder: configuration, the Redis client, the catalog state, the
// outbox and its workflow table, the stores. Nothing here knows which provider runs it.
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { redis } from '@steadyfn/connections/redis';
import { configFromEnv, emptyAsUnset } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { redisLeaseStore } from '@steadyfn/lease';
import { outbox, redisOutbox, transitions } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { defineState, redisKey } from '@steadyfn/state';
import { z } from 'zod';

// Configuration from the environment, checked once: a missing or malformed value fails the
// instance's start with a CONFIG_INVALID error naming each such variable and what it must be
// (never its value), instead of the first order. An empty variable reads as unset, so it gets its
// default (z.coerce.number() would read '' as 0).
export const config = configFromEnv(
  z.object({
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
    ORDER_EVENTS_QUEUE_URL: z.url(),
    BACKUP_BUCKET: z.string().min(3),
    ORDERS_PREFIX: z.string().regex(/^[a-z0-9-]{1,40}$/).default('shop'),
    OUTBOX_SWEEP_GRACE_MS: z.coerce.number().int().nonnegative().default(5_000),
  }),
  emptyAsUnset(),
);

const prefix = config.ORDERS_PREFIX;

/** Redis keys. `{id}` is a hash tag: an order, its outbox events and markers share one cluster slot. */
export const keys = {
  order: (orderId) => `${prefix}:order:{${orderId}}`,
  orders: `${prefix}:order:*`,
  /** Where restore drills put the restored orders (removed after each drill). */
  drill: `${prefix}:drill:`,
  catalog: `${prefix}:catalog`,
  catalogVersion: `${prefix}:catalog:version`,
};

// One ioredis client per instance, checked after a thaw; every store below asks it for the client.
export const cache = redis({ url: config.REDIS_URL });
export const client = () => cache.get();
const sqs = new SQSClient({});
const s3 = new S3Client({});

/** The catalog (SKU → name and price), loaded before a function runs and kept 30 s. */
export const catalog = defineState({
  sources: { catalog: redisKey({ client, key: keys.catalog, versionKey: keys.catalogVersion }) },
  schema: z.object({
    catalog: z.record(z.string(), z.object({ name: z.string(), priceCents: z.number().int().positive() })),
  }),
  maxAgeMs: 30_000,
  staleIfErrorMs: 300_000, // a Redis hiccup serves the last good catalog for up to 5 minutes
});

const Line = z.object({ sku: z.string(), qty: z.number().int(), priceCents: z.number().int() });

/** Every event an order goes through; each payload is checked when the event is added. */
export const orderEvents = {
  OrderPlaced: { aggregateType: 'order', schema: z.object({ customerId: z.string(), lines: z.array(Line), totalCents: z.number().int() }) },
  OrderValidated: { aggregateType: 'order', schema: z.object({ totalCents: z.number().int() }) },
  OrderRejected: { aggregateType: 'order', schema: z.object({ reason: z.string() }) },
  OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int(), paymentRef: z.string() }) },
  OrderDispatched: { aggregateType: 'order', schema: z.object({ carrier: z.string() }) },
};

/** Where the outbox keeps its events: beside the order hashes, in the same Redis. */
const outboxStore = redisOutbox({ client, prefix: `${prefix}:outbox:` });

/**
 * The outbox: an order's state and its events in one Lua script, then sent to the order-events
 * queue right after the commit (a sweeper sends what a crash left behind).
 */
export const orders = outbox({
  name: 'orders',
  events: orderEvents,
  store: outboxStore,
  relay: {
    sender: sqsSender({ client: sqs, queueUrl: config.ORDER_EVENTS_QUEUE_URL }),
    lease: redisLeaseStore({ client, prefix: `${prefix}:relay:` }),
    sweep: { graceMs: config.OUTBOX_SWEEP_GRACE_MS },
  },
});

/** The workflow: the order hash's `status` moves only along this table. */
export const workflow = transitions({
  store: outboxStore,
  table: { placed: ['validated', 'rejected'], validated: ['paid'], paid: ['dispatched'], dispatched: [], rejected: [] },
  redisKey: keys.order,
  alsoSet: (_from, to) => ({ [`${to}At`]: new Date().toISOString() }),
});

/** Idempotency records (HTTP requests) and inbox records (consumed events). */
export const records = redisStore({ client, prefix: `${prefix}:idem:` });

/** Where backups go: the bucket, under this application's prefix. */
export const backupStorage = { client: s3, bucket: config.BACKUP_BUCKET, prefix: `${prefix}-backups` };
