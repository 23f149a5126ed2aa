/**
 * A snapshot backup in its own process that kills itself (SIGKILL) the moment S3 answers the
 * first `CompleteMultipartUpload` of a segment: the object is complete in S3, the checkpoint
 * that would record it as sealed is not written. The seam is the S3 client only (test-only):
 * the package's own path up to and through the completion is the production one. Prints
 * `completed <key>` to stdout before the kill.
 */
import { CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { mongoSource, snapshotBackup } from '../../src/index.js';
import { s3Client } from '../s3-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const s3 = s3Client(env.CHILD_S3_ENDPOINT!);
  const client = {
    async send(command: unknown, options?: unknown) {
      const out = await s3.send(command as never, options as never);
      if (command instanceof CompleteMultipartUploadCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
        // Synchronous on a pipe (Linux): the line is out before the kill.
        process.stdout.write(`completed ${String(command.input.Key)}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      return out;
    },
  };
  const mongo = await MongoClient.connect(env.MONGODB_URI!);
  const job = snapshotBackup({
    source: mongoSource({ db: mongo.db(env.CHILD_DB!), batchSize: 250 }),
    target: { client, bucket: env.CHILD_BUCKET!, prefix: 'killed' },
    partSizeBytes: 5 * 1024 * 1024,
    segmentBytes: 10 * 1024 * 1024,
    partsInFlight: 2,
    memoryBudgetBytes: 64 * 1024 * 1024,
    leaseMs: 3_000,
  });
  const result = await job.run({ requestId: 'child' });
  process.stdout.write(`done ${result.status}\n`);
  await mongo.close();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
