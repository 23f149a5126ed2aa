/**
 * The crash point "state and events written, request not marked done", in every capture mode,
 * with a real child process SIGKILLed there and a second process retrying the same request
 * (same delivery id = same idempotency key). Each time: one effect (the charge counted once,
 * one event with seq 1), and the retry answers what the first attempt answered.
 *
 *   Redis           the idempotency completion is in the outbox's script: killed right after
 *                   it, the request is already done — the retry replays at once from the record
 *   Redis Cluster   the record is on another slot than the write: the write's request marker
 *                   keeps the answer; the retry (once the record's lease ran out) runs the
 *                   function, its write finds the marker, and the idempotency plugin replays it
 *   embedded        killed after the answer was kept beside the applied key: the retry's update
 *                   finds both and replays; killed right after the document update (before the
 *                   answer was kept): the retry's update writes nothing (`duplicate`) and the
 *                   function answers again — the one window left without transactions
 *   transaction     the idempotency completion commits in the transaction: the retry replays
 *                   at once (needs a replica set: MONGODB_REPLSET_URI; skipped otherwise)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createQueue, drainQueue, openMongo, openRedis, sqsClient, type MongoBackend, type RedisBackend } from '../support.js';
import { partitionKeys } from '../../src/stores/redis-keys.js';

const CHILD = fileURLToPath(new URL('./idempotency-child.mjs', import.meta.url));

interface Line {
  started?: boolean;
  point?: string;
  result?: { receipt: string };
  answer?: { paid: string; receipt: string; duplicate?: boolean };
  error?: string;
  duplicate?: boolean;
}

const children: ChildProcess[] = [];

/** Runs one attempt; resolves with the line that ends it (its answer, or the crash point it reached — then SIGKILLed). */
async function attempt(env: Record<string, string>, killAt?: string): Promise<Line> {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, ...env, CRASH_POINT: killAt ?? 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const line = await new Promise<Line>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not answer: ${stderr.slice(0, 2000)}`)), 90_000);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const parsed = JSON.parse(text) as Line;
      if (parsed.point || parsed.answer || parsed.error) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before answering: ${stderr.slice(0, 2000)}`)));
  });
  if (killAt) {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');
  } else await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
  return line;
}

/** Retries the request as a queue would (a held record answers 409 IDEMPOTENCY_IN_PROGRESS until its lease runs out). */
async function retry(env: Record<string, string>): Promise<{ line: Line; inProgress: number }> {
  for (let inProgress = 0; inProgress < 40; inProgress++) {
    const line = await attempt(env);
    if (line.error !== 'IDEMPOTENCY_IN_PROGRESS') return { line, inProgress };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the record stayed in progress');
}

describe('crash between the atomic write and the idempotency completion (SIGKILLed child processes)', () => {
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    sqs = await sqsClient();
    queue = await createQueue(sqs);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    await queue?.remove();
  });

  const eventsSent = async () => (await drainQueue(sqs, queue.url)).map((m) => JSON.parse(m.Body!) as { id: string; aggregateId: string; seq: number });

  describe.each(['redis', 'cluster'] as const)('Redis mode on %s', (name) => {
    let redis: RedisBackend;
    beforeAll(async () => {
      redis = await openRedis(name);
    });
    afterAll(async () => {
      await redis?.close();
    });

    it('one charge, one event; the retry answers the first attempt\'s answer', { timeout: 180_000 }, async () => {
      const env = { CRASH_MODE: name, CRASH_PREFIX: redis.prefix, CRASH_REQUEST: `req-${randomUUID()}`, CRASH_QUEUE_URL: queue.url };
      const killed = await attempt(env, 'after-write');
      expect(killed.point).toBe('after-write');
      // The write happened: state and event are there.
      expect(await redis.client.get(`${redis.prefix}charged:{o-1}`)).toBe('500');
      const { line: again, inProgress } = await retry(env);
      expect(again.answer).toEqual(killed.result);
      // Joined (one server): the record was done with the write, so the first retry replays. On the cluster
      // the record (another slot) stayed held until its lease ran out; then the write's marker answered.
      if (name === 'redis') expect(inProgress).toBe(0);
      expect(await redis.client.get(`${redis.prefix}charged:{o-1}`)).toBe('500');
      expect(await redis.client.hget(partitionKeys(redis.prefix, 'o-1').seq, 'order/o-1')).toBe('1');
      const sent = await eventsSent();
      expect(new Set(sent.map((e) => e.id)).size).toBe(1);
      expect(sent.every((e) => e.seq === 1)).toBe(true);
    });
  });

  describe('embedded mode on FerretDB', () => {
    let mongo: MongoBackend;
    beforeAll(async () => {
      mongo = await openMongo();
    });
    afterAll(async () => {
      await mongo?.close();
    });

    it('killed after the answer was kept: one charge, one event, the retry replays the answer', { timeout: 180_000 }, async () => {
      await mongo.db.collection('orders').deleteMany({});
      await mongo.db.collection('orders').insertOne({ _id: 'o-1' as never, status: 'validated', charged: 0 });
      const env = { CRASH_MODE: 'embedded', CRASH_DB: mongo.db.databaseName, CRASH_REQUEST: `req-${randomUUID()}`, CRASH_QUEUE_URL: queue.url };
      const killed = await attempt(env, 'after-write');
      expect(await mongo.db.collection('orders').findOne({ _id: 'o-1' as never })).toMatchObject({ status: 'paid', charged: 500 });
      const { line: again } = await retry(env);
      expect(again.answer).toEqual(killed.result);
      expect(await mongo.db.collection('orders').findOne({ _id: 'o-1' as never })).toMatchObject({ charged: 500, _outboxSeq: 1 });
      const sent = await eventsSent();
      expect(new Set(sent.map((e) => e.id)).size).toBe(1);
    });

    it('killed right after the document update: one charge, one event; the retry\'s update is a duplicate and the function answers again', { timeout: 180_000 }, async () => {
      await mongo.db.collection('orders').deleteMany({});
      await mongo.db.collection('orders').insertOne({ _id: 'o-1' as never, status: 'validated', charged: 0 });
      const env = { CRASH_MODE: 'embedded', CRASH_DB: mongo.db.databaseName, CRASH_REQUEST: `req-${randomUUID()}`, CRASH_QUEUE_URL: queue.url };
      const killed = await attempt(env, 'after-update');
      expect(killed.duplicate).toBe(false);
      const { line: again } = await retry(env);
      expect(again.answer).toMatchObject({ paid: 'o-1', duplicate: true });
      expect(await mongo.db.collection('orders').findOne({ _id: 'o-1' as never })).toMatchObject({ charged: 500, _outboxSeq: 1 });
      // The event the killed attempt wrote was sent by the retry's flush: one event.
      const sent = await eventsSent();
      expect(new Set(sent.map((e) => e.id)).size).toBe(1);
      // The request is done now: a third attempt replays the retry's answer.
      const third = await attempt(env);
      expect(third.answer).toEqual(again.answer);
    });
  });

  const replset = process.env.MONGODB_REPLSET_URI;
  describe.skipIf(!replset)('transaction mode (needs a replica set: set MONGODB_REPLSET_URI; FerretDB has no transactions)', () => {
    it('one charge, one event; the record completed in the transaction, so the retry replays at once', { timeout: 180_000 }, async () => {
      const { MongoClient } = await import('mongodb');
      const client = await new MongoClient(replset!).connect();
      const dbName = `steadyfn_outbox_crash_${randomUUID().slice(0, 8)}`;
      const db = client.db(dbName);
      try {
        await db.collection('orders').insertOne({ _id: 'o-1' as never, status: 'validated', charged: 0 });
        const env = { CRASH_MODE: 'transaction', CRASH_DB: dbName, CRASH_REQUEST: `req-${randomUUID()}`, CRASH_QUEUE_URL: queue.url };
        const killed = await attempt(env, 'after-write');
        const { line: again, inProgress } = await retry(env);
        expect(again.answer).toEqual(killed.result);
        expect(inProgress).toBe(0);
        expect(await db.collection('orders').findOne({ _id: 'o-1' as never })).toMatchObject({ charged: 500 });
        expect(await db.collection('outbox_seq').findOne({ _id: 'order/o-1' as never })).toMatchObject({ seq: 1 });
      } finally {
        await db.dropDatabase().catch(() => undefined);
        await client.close();
      }
    });
  });
});
