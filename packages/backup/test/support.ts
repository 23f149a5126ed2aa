/**
 * Test support for @steadyfn/backup: real clients for the local services (FerretDB, Redis,
 * Redis Cluster, and two S3 servers: moto and gofakes3), unique names per test, and helpers to
 * fill and compare data.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, DeleteObjectCommand, DeleteObjectsCommand, DeleteBucketCommand, ListObjectsV2Command, ListMultipartUploadsCommand, AbortMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { s3LeaseStore } from '@steadyfn/lease/s3';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { requireService } from '../../../test/services/env.js';
import type { RunContext } from '../src/context.js';
import { applyRetention, LeaseHeldError, verifyBackup, type RetentionOptions, type RetentionReport, type S3Target, type SnapshotJob } from '../src/index.js';
import { s3Client } from './s3-client.js';

export { s3Client };

export const runId = `bk${process.pid.toString(36)}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
let counter = 0;
/** A name unique to this run (lower case, safe for buckets, databases and keys). */
export function unique(name: string): string {
  return `${runId}-${name}-${++counter}`.toLowerCase();
}

/** The two S3 servers every S3 behaviour is tested on. */
export const S3_SERVERS = [
  { name: 'moto', env: 'S3_ENDPOINT', service: 's3' as const },
  { name: 'gofakes3', env: 'S3_ALT_ENDPOINT', service: 's3-alt' as const },
];


/** A fresh bucket on one S3 server. */
export async function freshBucket(server: (typeof S3_SERVERS)[number], options: { defaults?: boolean } = {}): Promise<{ client: S3Client; bucket: string; drop(): Promise<void> }> {
  await requireService(server.service);
  const client = s3Client(process.env[server.env]!, options);
  const bucket = unique('b').replace(/[^a-z0-9-]/g, '').slice(0, 60);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { client, bucket, drop: () => dropBucket(client, bucket) };
}

/** Empties and deletes a bucket (aborting unfinished uploads). */
export async function dropBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const objects = (listed.Contents ?? []).map((c) => ({ Key: c.Key! }));
    if (objects.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } })).catch(async () => {
      for (const o of objects) await client.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    });
  }
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket })).catch(() => ({ Uploads: [] as Array<{ Key?: string; UploadId?: string }> }));
  for (const u of uploads.Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! })).catch(() => undefined);
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
}

/** Keys of every object in the bucket. */
export async function listAll(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const c of page.Contents ?? []) out.push(c.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

/** An object's JSON, or undefined when absent (tests read checkpoints and indexes with it). */
export async function readJson<T>(client: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await out.Body!.transformToString()) as T;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/**
 * Damages one byte of an object, its size kept: XORs the byte at `at(length)` (the middle by
 * default) with `mask` (default 0x01). Resolves to a function that puts the original back.
 */
export async function flipByte(client: S3Client, bucket: string, key: string, options: { at?: (length: number) => number; mask?: number } = {}): Promise<() => Promise<void>> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const original = Buffer.from(await got.Body!.transformToByteArray());
  const body = Buffer.from(original);
  body[(options.at ?? ((length) => length >> 1))(body.length)]! ^= options.mask ?? 0x01;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return async () => void (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: original })));
}

/** Unfinished multipart uploads in the bucket. */
export async function openUploads(client: S3Client, bucket: string): Promise<Array<{ key: string; uploadId: string }>> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (out.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
}

// ------------------------------------------------------------------ MongoDB (FerretDB)

let mongo: MongoClient | undefined;
/** A shared MongoClient to FerretDB for the test file. */
export async function mongoClient(): Promise<MongoClient> {
  await requireService('mongodb');
  mongo ??= await MongoClient.connect(process.env.MONGODB_URI!, { serverSelectionTimeoutMS: 5_000 });
  return mongo;
}

/** A fresh database; drop it afterwards with `db.dropDatabase()`. */
export async function freshDb(name = 'db'): Promise<Db> {
  return (await mongoClient()).db(unique(name).replace(/[^a-z0-9_]/g, '_').slice(0, 60));
}

export async function closeMongo(): Promise<void> {
  await mongo?.close();
  mongo = undefined;
}

// ------------------------------------------------------------------ Redis

export async function redisClient(): Promise<Redis> {
  await requireService('redis');
  const client = new Redis(process.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await client.connect();
  return client;
}

export async function redisCluster(): Promise<Cluster> {
  await requireService('redis-cluster');
  const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host: host!, port: Number(port) };
  });
  const cluster = new Cluster(nodes, { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 2 } });
  await cluster.connect();
  return cluster;
}

// ------------------------------------------------------------------ invocations

/**
 * Waits, when less than `marginMs` are left in the current UTC hour, until the next hour has
 * begun. A stream object is filed under the hour of its first record (the Redis stream id's
 * time), so a test that writes a few objects and expects them in one hourly index must not
 * straddle an hour's end (a run whose few seconds of writes crossed one would find two indexes).
 */
export async function clearOfHourEnd(marginMs = 60_000): Promise<void> {
  const HOUR_MS = 3_600_000;
  const left = HOUR_MS - (Date.now() % HOUR_MS);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 1_000));
}

/** A handler-like context with a deadline `ms` from now. */
export function deadlineIn(ms: number, requestId?: string): RunContext {
  const deadline = Date.now() + ms;
  return { remainingMs: () => deadline - Date.now(), ...(requestId ? { requestId } : {}) };
}

/**
 * Time at a run's start, none once it works: a snapshot checkpoints at its start (its start mark
 * taken) and stops before its first part — a job left running; retention takes its lease and
 * stops at its first deadline check (a listing's page, a read, a delete). A run of any job with
 * no time past its `reserveMs` at the start stops before any S3 request, so a tiny `deadlineIn`
 * (or a constant `remainingMs` under the reserve) no longer makes one.
 */
export function timeOnlyAtStart(requestId?: string): RunContext {
  let asked = 0;
  return { remainingMs: () => (asked++ === 0 ? 600_000 : 0), ...(requestId ? { requestId } : {}) };
}

/** Bytes that gzip cannot shrink (so a few documents fill a 5 MiB part). */
export function noise(bytes: number): string {
  return randomBytes(Math.ceil(bytes * 0.75)).toString('base64').slice(0, bytes);
}

/** Runs `job` `count` times, each to a complete backup that passes a `full` verification, waiting `minGapMs` before each after the first (so end times are at least that far apart); resolves to their ids, oldest first. */
export async function verifiedBackups(job: SnapshotJob, storage: S3Target, count: number, minGapMs = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    // A test that steps a clock between two backups' end times needs them that far apart, however fast the run.
    if (i > 0 && minGapMs > 0) await new Promise((r) => setTimeout(r, minGapMs));
    const result = await job.run();
    if (result.status !== 'complete') throw new Error('snapshot did not complete');
    await verifyBackup({ backup: { storage, id: result.backupId }, level: 'full' });
    ids.push(result.backupId);
  }
  return ids;
}

// ------------------------------------------------------------------ leases of dead runners

/**
 * Retries `work` every 500 ms while it is refused with `LeaseHeldError` (a dead runner's lease
 * lasting), for up to 60 s: bounded by time, generously, not by a count of attempts.
 */
export async function whenLeaseFree<T>(work: () => Promise<T>): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof LeaseHeldError) || Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Waits (bounded, 30 s) until the lease at `key` (relative to the prefix) has run out, as S3's clock judges it. */
export async function leaseRunsOut(storage: { client: S3Client; bucket: string; prefix: string }, key: string): Promise<void> {
  const leases = s3LeaseStore({ client: storage.client, bucket: storage.bucket, prefix: `${storage.prefix}/` });
  const until = Date.now() + 30_000;
  while ((await leases.get(key)) !== undefined) {
    if (Date.now() > until) throw new Error(`the dead runner's lease ${key} did not run out within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ------------------------------------------------------------------ a stream sink in its own process

/**
 * Starts `test/child/stream-child.ts` (bundled once per call) as a sink of stream `name`
 * reading the Redis stream `key` under prefix `stream`, and resolves once it has paused after
 * its `killAt`-th object (or, with `pauseAfter: 'index'`, that object's hourly index) —
 * alive, its lease renewed. `kill()` SIGKILLs it and resolves when it is gone. `leaseMs`
 * (default 1500) is the sink's lease: a test that needs the paused sink judged alive takes a
 * longer one, so a renewal late on a busy machine cannot let the lease run out meanwhile.
 */
export async function pausedSink(server: (typeof S3_SERVERS)[number], bucket: string, name: string, key: string, options: { killAt?: number; pauseAfter?: 'object' | 'index'; leaseMs?: number } = {}): Promise<{ kill(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const { rmSync } = await import('node:fs');
  const { bundleChild } = await import('../../../test/support/bundle.js');
  const { file, dir } = bundleChild(new URL('./child/stream-child.ts', import.meta.url).href);
  const env = { ...process.env, CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: bucket, CHILD_STREAM: name, CHILD_KEY: key, KILL_AT: String(options.killAt ?? 1), PAUSE_AFTER: options.pauseAfter ?? 'object', CHILD_LEASE_MS: String(options.leaseMs ?? 1500) };
  const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('waiting\n')) resolve();
      });
      // Its stderr says why (`child failed: LeaseHeldError BACKUP_LEASE_HELD` when another holds the stream).
      child.on('exit', () => reject(new Error(`the sink exited before it paused: ${out} ${errors.split('\n').filter((l) => l.startsWith('child failed')).join(' ')}`)));
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    async kill() {
      child.kill('SIGKILL');
      const signal = await exited;
      rmSync(dir, { recursive: true, force: true });
      if (signal !== 'SIGKILL') throw new Error(`the sink ended with ${String(signal)}, not SIGKILL`);
    },
  };
}

/** Anything with an S3 client's `send`. */
export type Sender = { send(command: unknown, options?: unknown): Promise<unknown> };

/**
 * `client`, counting in `state.count` the requests made with command class `kind` (e.g.
 * `HeadObjectCommand`) whose `Key` matches `key`; a test drives a retention run's clock by it.
 */
export function countingRequests(client: Sender, kind: abstract new (...args: never[]) => unknown, key: RegExp) {
  const state = { count: 0 };
  return {
    state,
    client: {
      async send(command: unknown, options?: unknown) {
        if (command instanceof kind && key.test(String((command as { input?: { Key?: unknown } }).input?.Key))) state.count++;
        return client.send(command, options);
      },
    },
  };
}

/**
 * A deadline set by what a run did, not by how often it reads the clock: `remainingMs` is an
 * hour until `count` requests of `kind` for a backup's data (a segment, `….ndjson.gz`; e.g.
 * `UploadPartCommand`: a part sent; not the probe's own upload) went through `client`, then
 * 1 ms (under any reserve). Give `client` to the job's target; `ctx()` starts a run (its count from 0).
 */
export function deadlineAfter(client: Sender, kind: abstract new (...args: never[]) => unknown, count: number) {
  const counting = countingRequests(client, kind, /\.ndjson\.gz$/);
  return {
    client: counting.client as S3Target['client'],
    ctx(requestId?: string): RunContext {
      counting.state.count = 0;
      return { remainingMs: () => (counting.state.count >= count ? 1 : 3_600_000), ...(requestId ? { requestId } : {}) };
    },
  };
}

/**
 * Retention as a pass over runs, one page of `backups/` a run: pages of three ids (`smallPages`)
 * and a clock that leaves 23 s, takes 10 s a page and keeps 3 s back (`reserveMs`, unless
 * `options` set it). `run` is one run; `untilDone` runs until no pass is left (at most 14 runs)
 * and returns every run's report.
 */
export function pagedRetention(storage: S3Target) {
  const small = smallPages(storage.client);
  const run = (options: Omit<RetentionOptions, 'storage'>, signal?: AbortSignal): Promise<RetentionReport> => {
    small.state.pages = 0;
    return applyRetention({ storage: { ...storage, client: small.client }, reserveMs: 3_000, ...options }, { remainingMs: () => 22_999 - 10_000 * small.state.pages, ...(signal ? { signal } : {}) });
  };
  const untilDone = async (options: Omit<RetentionOptions, 'storage'>): Promise<RetentionReport[]> => {
    const reports: RetentionReport[] = [];
    do {
      if (reports.length === 14) throw new Error('the retention pass did not end in 14 runs');
      reports.push(await run(options));
    } while (reports.at(-1)!.backupsPass);
    return reports;
  };
  return { small, run, untilDone };
}

/**
 * A client that makes the pages of `backups/` small and counts them (listings of `p/backups/`
 * itself: ids and unfinished uploads); `failDeleteAt` makes the n-th DeleteObject of a
 * backup's object fail like a process dying there (ids named `0000-…`, orphans, are not counted).
 */
export function smallPages(client: Sender) {
  const state = { pages: 0, deletes: 0, failDeleteAt: 0 };
  return {
    state,
    client: {
      async send(command: unknown, options?: unknown) {
        if (command instanceof ListObjectsV2Command && command.input.Prefix === 'p/backups/') {
          state.pages++;
          command.input.MaxKeys = 3;
        }
        if (command instanceof ListMultipartUploadsCommand && command.input.Prefix === 'p/backups/') {
          state.pages++;
          command.input.MaxUploads = 2;
        }
        // A backup's deletes (the orphans made below are named 0000-…).
        if (command instanceof DeleteObjectCommand && /^p\/backups\/0(?!000-)/.test(String(command.input.Key)) && ++state.deletes === state.failDeleteAt) throw new Error('killed');
        return client.send(command, options);
      },
    },
  };
}

/** `client`, with the `at`-th GET of a segment part stopped until `go()` (or failed, with `fail`). */
export function gatedClient(client: Sender, at: number, fail = false) {
  let gets = 0;
  let reached!: () => void;
  let go!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  const open = new Promise<void>((r) => (go = r));
  return {
    reached: atGate,
    go,
    client: {
      async send(command: unknown, options?: unknown) {
        if (command instanceof GetObjectCommand && String(command.input.Key).endsWith('.ndjson.gz') && ++gets === at) {
          reached();
          if (fail) throw Object.assign(new Error('injected read failure'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
          await open;
        }
        return client.send(command, options);
      },
    },
  };
}

/** The SQS servers `sqsSource` is tested on: moto, and fauxqs as a second server. */
export const SQS_SERVERS = [
  { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' },
  { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' },
];

/**
 * A fresh queue on `server` (named after `name`) holding one message per body, and a fresh bucket
 * (`storage` under `prefix`); `left()` counts the queue's visible and in-flight messages,
 * `cleanup()` deletes queue and bucket.
 */
export async function freshQueue(server: (typeof SQS_SERVERS)[number], name: string, bodies: string[], prefix: string) {
  await requireService(server.service);
  const s3 = await freshBucket(S3_SERVERS[0]!);
  const sqs = new SQSClient({ endpoint: process.env[server.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique(name).replace(/[^a-z0-9-]/g, '') }));
  await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: bodies.map((MessageBody, i) => ({ Id: `m${i}`, MessageBody })) }));
  const left = async (): Promise<number> => {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };
  const cleanup = async (): Promise<void> => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    await s3.drop();
  };
  return { s3, sqs, queueUrl: QueueUrl!, left, cleanup, storage: { client: s3.client, bucket: s3.bucket, prefix } };
}
