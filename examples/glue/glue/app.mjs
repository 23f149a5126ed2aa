// The glue application's building blocks, made once per instance (module scope): configuration,
// clients, the outbox that turns a recorded image into an event, and the stores.
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mongo } from '@steadyfn/connections/mongodb';
import { redis } from '@steadyfn/connections/redis';
import { configFromEnv, emptyAsUnset } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { redisLeaseStore } from '@steadyfn/lease';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { z } from 'zod';

// Checked once: a missing or malformed variable fails the instance's start with a CONFIG_INVALID
// error naming each such variable and what it must be (never its value). An empty variable reads
// as unset, so it gets its default (z.coerce.number() would read '' as 0).
export const config = configFromEnv(
  z.object({
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL'),
    SEARCH_DB: z.string().min(1).default('images'),
    IMAGE_EVENTS_QUEUE_URL: z.url(),
    GLUE_PREFIX: z.string().regex(/^[a-z0-9-]{1,40}$/).default('images'),
    THUMBNAIL_WIDTH: z.coerce.number().int().min(16).max(1024).default(160),
  }),
  emptyAsUnset(),
);

const prefix = config.GLUE_PREFIX;

/** Redis keys; `{id}` is a hash tag: an image record and its outbox events share a cluster slot. */
export const keys = { image: (imageId) => `${prefix}:image:{${imageId}}` };

export const cache = redis({ url: config.REDIS_URL });
const client = () => cache.get();
export const searchDb = mongo({ uri: config.MONGODB_URI, db: config.SEARCH_DB });
export const s3 = new S3Client({});
const sqs = new SQSClient({});

/** The record of an image and its thumbnail, with the whole record as the event's change. */
const ImageRecord = z.object({
  imageId: z.string(),
  bucket: z.string(),
  source: z.string(),
  thumbnail: z.string(),
  title: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  recordedAt: z.string(),
});

/** Recorded images and their events, relayed to the image-events queue the search indexer reads. */
export const images = outbox({
  name: 'images',
  events: { ImageRecorded: { aggregateType: 'image', schema: ImageRecord } },
  store: redisOutbox({ client, prefix: `${prefix}:outbox:` }),
  relay: {
    sender: sqsSender({ client: sqs, queueUrl: config.IMAGE_EVENTS_QUEUE_URL }),
    lease: redisLeaseStore({ client, prefix: `${prefix}:relay:` }),
  },
});

/** Idempotency records (storage events) and inbox records (image events). */
export const records = redisStore({ client, prefix: `${prefix}:idem:` });
