/**
 * A snapshot run killed (SIGKILL, a real child process: test/child/complete-kill-child.ts) the
 * moment S3 answered its `CompleteMultipartUpload` — the segment's object is complete, the
 * checkpoint still names its open upload. The next run must recognise the object as its own
 * (made of exactly the checkpoint's parts) and keep it: not upload the segment again, not
 * claim that "another client" aborted the upload; one object per segment, and the backup
 * verifies. Before, the re-run found the upload gone (`NoSuchUpload`), warned that another
 * client or a lifecycle rule had aborted it and wrote the segment again over its own object.
 * An object at the key that is not made of the checkpoint's parts is not kept (written again,
 * said as a warning). FerretDB as the source, both S3 servers.
 */
import { rmSync } from 'node:fs';
import { CompleteMultipartUploadCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoSource, snapshotBackup, verifyBackup, type SnapshotCheckpoint } from '../src/index.js';
import type { LogLike } from '../src/context.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, freshBucket, freshDb, listAll, noise, openUploads, readJson, S3_SERVERS, whenLeaseFree, type Sender } from './support.js';

afterAll(closeMongo);

const MIB = 1024 * 1024;
/** About 16 MiB of incompressible documents: parts of 5 MiB, segments of two parts. */
const DOCS = 4_000;
const options = { partSizeBytes: 5 * MIB, segmentBytes: 10 * MIB, partsInFlight: 2, memoryBudgetBytes: 64 * MIB, leaseMs: 3_000 };

/** `client`, counting the segments' UploadParts. */
function countingParts(client: Sender) {
  const parts = { count: 0 };
  return {
    parts,
    client: {
      send(command: unknown, opts?: unknown) {
        if (command instanceof UploadPartCommand && String(command.input.Key).endsWith('.ndjson.gz')) parts.count++;
        return client.send(command, opts);
      },
    },
  };
}

/** A log keeping every line, by level. */
function lines(): { log: LogLike; all: Array<{ level: string; message: string }> } {
  const all: Array<{ level: string; message: string }> = [];
  const keep = (level: string) => (message: string) => void all.push({ level, message });
  return { all, log: { info: keep('info'), warn: keep('warn'), error: keep('error') } };
}

describe.each(S3_SERVERS)('a snapshot run killed right after CompleteMultipartUpload, on $name', (server) => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('cmpkill');
    for (let start = 0; start < DOCS; start += 500) {
      await source.collection<{ _id: number; blob: string }>('blobs').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
    }
  }, 120_000);
  afterAll(() => source.dropDatabase());

  /** The child run, killed as S3 answers its first segment's completion: the checkpoint's open segment and the object's ETag. */
  async function killedAfterCompletion(s3: { client: S3Client; bucket: string }) {
    const { file, dir } = bundleChild(new URL('./child/complete-kill-child.ts', import.meta.url).href);
    try {
      const { output, killed, errors } = await runChild(file, { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_DB: source.databaseName });
      expect({ killed, errors }).toEqual({ killed: true, errors: [] });
      const completedKey = /completed (\S+)\n/.exec(output)?.[1];
      expect(completedKey).toMatch(/\/data\/blobs\/0+\.ndjson\.gz$/);
      // The object is complete in S3; the checkpoint still names its upload as open.
      const checkpoint = (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json'))!;
      const current = checkpoint.datasets[0]!.current!;
      expect(current.key).toBe(completedKey);
      expect(checkpoint.datasets[0]!.segments).toEqual([]);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: current.key }));
      return { checkpoint, current, etag: head.ETag };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** A re-run (counting its UploadParts, keeping its log): the manifest's segments once complete. */
  async function rerun(s3: { client: S3Client; bucket: string }, backupId: string) {
    const counted = countingParts(s3.client);
    const { log, all } = lines();
    const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: { client: counted.client, bucket: s3.bucket, prefix: 'killed' }, ...options });
    const next = await whenLeaseFree(() => job.run({ log }));
    expect(next).toMatchObject({ status: 'complete', backupId, resumed: true, records: DOCS });
    const manifest = (await readJson<{ datasets: Array<{ segments: Array<{ key: string; parts: unknown[] }> }> }>(s3.client, s3.bucket, `killed/backups/${backupId}/manifest.json`))!;
    const segments = manifest.datasets[0]!.segments;
    // One object per segment, nothing open; the backup verifies.
    const objects = (await listAll(s3.client, s3.bucket, `killed/backups/${backupId}/`)).filter((k) => k.endsWith('.ndjson.gz'));
    expect(objects.sort()).toEqual(segments.map((g) => g.key).sort());
    expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'killed' };
    expect(await verifyBackup({ backup: { storage, id: backupId }, level: 'full' })).toMatchObject({ ok: true });
    return { segments, uploaded: counted.parts.count, all };
  }

  it('the re-run keeps its completed segment: not written again, no "another client", one object, the backup verifies', async () => {
    const s3 = await freshBucket(server);
    try {
      const { checkpoint, current, etag } = await killedAfterCompletion(s3);
      const { segments, uploaded, all } = await rerun(s3, checkpoint.backupId);
      // Said as it happened: its own completed segment kept; nothing blamed on another client, no rewrite.
      expect(all.filter((l) => l.level === 'warn')).toEqual([]);
      expect(all.map((l) => l.message).join('\n')).not.toMatch(/another client|written again/);
      expect(all).toContainEqual({ level: 'info', message: expect.stringContaining(`segment 0 of blobs was completed by an earlier run of this backup`) });
      // The object is the one the killed run completed (same ETag); the re-run uploaded only the parts after it.
      expect((await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: current.key }))).ETag).toBe(etag);
      expect(segments[0]!.parts).toHaveLength(current.parts.length);
      expect(uploaded).toBe(segments.slice(1).reduce((n, g) => n + g.parts.length, 0));
    } finally {
      await s3.drop();
    }
  }, 180_000);

  it('a completion S3 applied whose reply was lost, resent and answered NoSuchUpload, is taken as done: one run, nothing written again', async () => {
    const s3 = await freshBucket(server);
    try {
      // The SDK's view of a lost reply: the completion is applied, then its resend meets NoSuchUpload.
      let resent = 0;
      const lostReply = {
        async send(command: unknown, opts?: unknown) {
          const out = await s3.client.send(command as never, opts as never);
          if (command instanceof CompleteMultipartUploadCommand && String(command.input.Key).endsWith('.ndjson.gz') && resent++ === 0) {
            throw Object.assign(new Error('The specified upload does not exist.'), { name: 'NoSuchUpload', $fault: 'client', $metadata: { httpStatusCode: 404 } });
          }
          return out;
        },
      };
      const counted = countingParts(lostReply);
      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: { client: counted.client, bucket: s3.bucket, prefix: 'lost' }, ...options });
      const done = await job.run();
      expect(done).toMatchObject({ status: 'complete', resumed: false, records: DOCS });
      expect(resent).toBeGreaterThan(1);
      const manifest = (await readJson<{ datasets: Array<{ segments: Array<{ key: string; parts: unknown[] }> }> }>(s3.client, s3.bucket, `lost/backups/${done.backupId}/manifest.json`))!;
      const segments = manifest.datasets[0]!.segments;
      expect(counted.parts.count).toBe(segments.reduce((n, g) => n + g.parts.length, 0));
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      expect(await verifyBackup({ backup: { storage: { client: s3.client, bucket: s3.bucket, prefix: 'lost' }, id: done.backupId! }, level: 'full' })).toMatchObject({ ok: true });
    } finally {
      await s3.drop();
    }
  }, 180_000);

  it('an object at the key that is not the checkpoint\'s parts (same size, other bytes) is not kept: the segment is written again, saying why', async () => {
    const s3 = await freshBucket(server);
    try {
      const { checkpoint, current } = await killedAfterCompletion(s3);
      const size = current.parts.reduce((n, p) => n + p.bytes, 0);
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: current.key, Body: Buffer.alloc(size, 7) }));
      const { segments, uploaded, all } = await rerun(s3, checkpoint.backupId);
      const warned = all.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('segment 0 of blobs is written again from its first part');
      expect(warned[0]).toContain('the object at its key is not made of the checkpoint');
      expect(uploaded).toBe(segments.reduce((n, g) => n + g.parts.length, 0));
    } finally {
      await s3.drop();
    }
  }, 180_000);
});
