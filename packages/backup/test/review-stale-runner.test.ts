/**
 * Review (try-to-break) finding on fencing a stale runner, on both S3 servers: runner A is
 * frozen (a paused instance, a partition) after committing its manifest and before deleting
 * its checkpoint; its lease runs out, B takes the job over and finishes it, and a later run C
 * leaves a checkpoint of a new backup. When A wakes, its delayed checkpoint delete must not
 * remove C's checkpoint: only the writer of the stored checkpoint may delete it. (Before: the
 * delete was unconditional, C's progress was lost — its next save was refused as fenced and
 * the next run started a new backup, leaving C's upload behind.)
 */
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { FencedError, mongoSource, snapshotBackup } from '../src/index.js';
import { s3LeaseStore } from '@steadyfn/lease/s3';
import { closeMongo, freshBucket, freshDb, readJson, S3_SERVERS, timeOnlyAtStart } from './support.js';

afterAll(closeMongo);

/**
 * A client whose requests all hang, from the checkpoint removal on, until `thaw()`: from its
 * first request (`HeadObject`) or, with `at: 'delete'`, from its `DeleteObject` — after the ETag
 * was checked (a server that honours If-Match on DELETE must refuse it then).
 */
function freezable(client: S3Client, job: string, at: 'head' | 'delete'): { client: { send: S3Client['send'] }; frozen: Promise<void>; thaw(): void } {
  let thaw!: () => void;
  let onFrozen!: () => void;
  const thawed = new Promise<void>((resolve) => (thaw = resolve));
  const frozen = new Promise<void>((resolve) => (onFrozen = resolve));
  let isFrozen = false;
  const send = (async (command: { input: { Key?: string } }, options?: unknown) => {
    const removing = at === 'delete' ? command instanceof DeleteObjectCommand : command instanceof DeleteObjectCommand || command instanceof HeadObjectCommand;
    if (!isFrozen && removing && command.input.Key?.endsWith(`jobs/${job}/checkpoint.json`)) {
      isFrozen = true;
      onFrozen();
    }
    if (isFrozen) await thawed;
    return client.send(command as never, options as never);
  }) as S3Client['send'];
  return { client: { send }, frozen, thaw };
}

describe.each(S3_SERVERS)('a stale runner on $name', (server) => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('stalesrc');
    await source.collection<{ _id: number; v: string }>('items').insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, v: `v${i}` })));
  });

  // gofakes3 ignores If-Match on DeleteObject (S3 and moto refuse a wrong ETag with 412): there,
  // only a pause before the ETag check is fenced.
  const points = server.name === 'moto' ? (['head', 'delete'] as const) : (['head'] as const);
  it.each(points)('cannot delete the checkpoint of the runner that took over (A frozen at its checkpoint %s)', async (at) => {
    const s3 = await freshBucket(server);
    const prefix = 'stale';
    const job = 'nightly';
    const common = { job, leaseMs: 1000 };
    try {
      const frozenA = freezable(s3.client, job, at);
      const a = snapshotBackup({ source: mongoSource({ db: source }), target: { client: frozenA.client, bucket: s3.bucket, prefix }, ...common }).run({ requestId: 'a' });
      a.catch(() => undefined);
      await frozenA.frozen;

      // A's lease runs out (it cannot renew while frozen): poll until S3 says so.
      const leases = s3LeaseStore({ client: s3.client, bucket: s3.bucket, prefix: `${prefix}/` });
      const deadline = Date.now() + 15_000;
      while ((await leases.get(`jobs/${job}/lease.json`)) !== undefined) {
        if (Date.now() > deadline) throw new Error('A\'s lease did not run out');
        await new Promise((r) => setTimeout(r, 250));
      }

      const storage = { client: s3.client, bucket: s3.bucket, prefix };
      const b = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, ...common }).run({ requestId: 'b' });
      expect(b).toMatchObject({ status: 'complete', resumed: true });
      // C: a new backup, stopped by its deadline before its first part: its checkpoint stays.
      const c = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, ...common }).run(timeOnlyAtStart('c'));
      expect(c).toMatchObject({ status: 'checkpointed' });
      const checkpointKey = `${prefix}/jobs/${job}/checkpoint.json`;
      expect(await readJson<{ backupId: string }>(s3.client, s3.bucket, checkpointKey)).toMatchObject({ backupId: c.backupId });

      frozenA.thaw();
      await expect(a).rejects.toBeInstanceOf(FencedError);
      // C's checkpoint is still there, and the next run continues C's backup.
      expect(await readJson<{ backupId: string }>(s3.client, s3.bucket, checkpointKey)).toMatchObject({ backupId: c.backupId });
      const next = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, ...common }).run({ requestId: 'd' });
      expect(next).toMatchObject({ status: 'complete', backupId: c.backupId, resumed: true });
    } finally {
      await s3.drop();
    }
  }, 60_000);
});
