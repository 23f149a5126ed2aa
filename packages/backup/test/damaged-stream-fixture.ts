/**
 * Shared by the damaged-stream-object tests (retention-stream-damaged-checkpoint / -pruned):
 * a stream `orders` with hours below a kept snapshot (outbox-fixture.ts), then a second
 * snapshot, so that the policy `keepLast: 1` drops the first backup and the prune would reach
 * every hour below the second — checked undamaged on a dry run before the test damages an object.
 */
import { expect } from 'vitest';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { applyRetention, mongoSource, snapshotBackup, verifyBackup, type S3Target } from '../src/index.js';
import { pastHoursBelowKeptSnapshot } from './outbox-fixture.js';
import { freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

export interface PrunableStream {
  s3: Awaited<ReturnType<typeof freshBucket>>;
  redis: Redis;
  db: Db;
  /** The outbox's Redis stream key. */
  key: string;
  storage: S3Target;
  /** The backup the policy drops. */
  firstId: string;
  /** The backup the policy keeps. */
  secondId: string;
  /** Every object and index of the stream under `r/streams/orders/t`. */
  objects: string[];
  /** The retention policy of the tests: keepLast 1, stream `orders`, no orphan grace. */
  policy: { storage: S3Target; keepLast: number; stream: string; orphanGraceMs: number };
  /** Writes `body` over the object at `key` (under the bucket). */
  put(key: string, body: string): Promise<void>;
  /** The object at `key`, as text. */
  read(key: string): Promise<string>;
  /** The stream's objects and indexes now. */
  streamObjects(): Promise<string[]>;
  close(): Promise<void>;
}

/** Builds the stream and both backups on `server`; `tag` names its database and stream key. */
export async function prunableStream(server: (typeof S3_SERVERS)[number], tag: string): Promise<PrunableStream> {
  const s3 = await freshBucket(server);
  const redis = await redisClient();
  const db = await freshDb(`${tag}src`);
  const key = unique(`${tag}-outbox`);
  const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
  const close = async (): Promise<void> => {
    await redis.del(key);
    redis.disconnect();
    await db.dropDatabase();
    await s3.drop();
  };
  try {
    const job = (name: string) => snapshotBackup({ source: mongoSource({ db, collections: ['orders'] }), target: storage, job: name, stream: 'orders' });
    const firstId = await pastHoursBelowKeptSnapshot(redis, key, db, storage, job);
    const second = await job('a').run();
    expect(second.status).toBe('complete');
    await verifyBackup({ backup: { storage, id: second.backupId! }, level: 'full' });
    const streamObjects = () => listAll(s3.client, s3.bucket, 'r/streams/orders/t');
    const objects = await streamObjects();
    expect(objects.filter((k) => k.endsWith('/index.json')).length).toBeGreaterThanOrEqual(3);
    // Undamaged, this policy deletes the first backup and prunes the hours below the second (checked on a copy).
    const planned = await applyRetention({ storage, keepLast: 1, stream: 'orders', dryRun: true });
    expect(planned).toMatchObject({ deleted: [firstId], damaged: [] });
    expect(planned.streamObjects).toBeGreaterThan(0);
    return {
      s3,
      redis,
      db,
      key,
      storage,
      firstId,
      secondId: second.backupId!,
      objects,
      policy: { storage, keepLast: 1, stream: 'orders', orphanGraceMs: 0 },
      put: async (at, body) => void (await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: at, Body: body }))),
      read: async (at) => (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: at }))).Body!.transformToString(),
      streamObjects,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The `damaged` entry a run reports for the stream object `key` (under the prefix) damaged as `damage`. */
export function damagedEntry(key: string, what: string, damage: { code: string; problem: string }) {
  return { key, what, code: damage.code, expected: expect.stringContaining('format version 1'), problem: expect.stringContaining(damage.problem), stream: 'orders', leftAlone: 'prune of the stream' };
}

/** A retention log that keeps its warnings. */
export function warningLog() {
  const warnings: Array<{ message: string; fields: unknown }> = [];
  const log = { info: () => undefined, error: () => undefined, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, fields }) };
  return { warnings, log };
}
