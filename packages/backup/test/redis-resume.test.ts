/**
 * A Redis keyspace snapshot on the real 3-master Cluster, cut by the deadline after every part
 * and resumed, on both S3 servers: each resumed run first seals the open upload, reads back the
 * keys the backup holds, and scans the interrupted batch again (SCAN has no other resume point),
 * so it must drop what it wrote before. The finished backup holds every key exactly once (a
 * list's chunks too: an RPUSH chunk written twice would double elements) and restores equal.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { loadManifest, segmentLines } from '../src/restore/load.js';
import { parseRedisRecord } from '../src/format/records.js';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { deadlineAfter, freshBucket, redisCluster, S3_SERVERS, unique } from './support.js';

/** Every key under `p` (latin1) → its value, read from every master. */
async function contents(cluster: Cluster, p: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const node of cluster.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scanBuffer(cursor, 'MATCH', `${p}:*`, 'COUNT', 500);
      cursor = next.toString();
      for (const key of keys) {
        const type = await node.type(key);
        const value = type === 'list' ? (await node.lrangeBuffer(key, 0, -1)).map((b) => b.toString('hex')).join(',') : (await node.getBuffer(key))!.toString('hex');
        out.set(key.toString('latin1').slice(p.length), `${type}:${value}`);
      }
    } while (cursor !== '0');
  }
  return out;
}

async function drop(cluster: Cluster, p: string): Promise<void> {
  for (const key of (await contents(cluster, p)).keys()) await cluster.del(Buffer.from(p + key, 'latin1'));
}

describe.each(S3_SERVERS)('a Redis Cluster snapshot cut by the deadline after every part, on $name', (server) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await redisCluster();
  });
  afterAll(() => cluster.disconnect());

  it('resumes to a backup holding every key once, which restores equal', async () => {
    const s3 = await freshBucket(server);
    const p = unique('rres');
    const restored = unique('rres-to');
    try {
      // ~24 MiB of DUMP payloads that gzip cannot shrink (4 parts or more), spread over the three
      // masters, and two big lists exported in chunks, so cuts fall inside keys too.
      for (let i = 0; i < 3000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => cluster.set(`${p}:k:${i + j}`, randomBytes(6 * 1024))));
      for (const big of ['a', 'b']) {
        for (let i = 0; i < 10; i++) await cluster.rpush(`${p}:list:${big}`, ...Array.from({ length: 50 }, () => randomBytes(2048)));
      }
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'redis-resume' };
      const source = redisSource({ client: cluster, pattern: `${p}:*`, scanCount: 50, bigKeyElements: 100, chunkElements: 40 });
      // Each run stops after its first part is sent (it finishes that part, or two in flight).
      const cut = deadlineAfter(s3.client, UploadPartCommand, 1);
      const job = snapshotBackup({ source, target: { ...storage, client: cut.client }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024 });
      let runs = 0;
      let result: Awaited<ReturnType<typeof job.run>>;
      do {
        result = await job.run(cut.ctx());
        runs++;
      } while (result.status === 'checkpointed' && runs < 40);
      expect(result.status).toBe('complete');
      expect(runs).toBeGreaterThan(3);
      if (result.status !== 'complete') return;

      // Each DUMP key once; each chunk of a big list once (chunk numbers 0…n−1, no repeats).
      const manifest = await loadManifest(storage, result.backupId);
      const seen = new Map<string, number[]>();
      for (const dataset of manifest.datasets) {
        for (const segment of dataset.segments) {
          for await (const line of segmentLines(storage, segment)) {
            const record = parseRedisRecord(line);
            const key = typeof record.k === 'string' ? record.k : Buffer.from(record.k.$b64, 'base64').toString('latin1');
            // A list written again from chunk 0 on a resume (its copy deleted once read ahead of the
            // checkpoint) replaces its earlier chunks (`r`): counted from there.
            const earlier = record.t !== 'dump' && record.c === 0 && record.r !== undefined ? [] : (seen.get(key) ?? []);
            seen.set(key, [...earlier, record.t === 'dump' ? -1 : record.c]);
          }
        }
      }
      expect(seen.size).toBe(3002);
      const repeated = [...seen].filter(([key, chunks]) => (key.includes(':list:') ? chunks.join() !== chunks.map((_, i) => i).join() : chunks.length !== 1));
      expect(repeated).toEqual([]);

      await restore({ backup: { storage, id: result.backupId }, target: redisTarget({ client: cluster, keyPrefix: `${restored}:` }) });
      expect(await contents(cluster, `${restored}:${p}`)).toEqual(await contents(cluster, p));
    } finally {
      await drop(cluster, p);
      await drop(cluster, `${restored}:${p}`);
      await s3.drop();
    }
  }, 300_000);
});
