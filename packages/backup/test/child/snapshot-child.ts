/**
 * A snapshot backup in its own process, to be killed with SIGKILL by the test. Each
 * UploadPart is slowed down (`SLOW_PART_MS`) so the kill lands mid-backup. Prints
 * `part <n>` to stdout as each part upload returns.
 */
import { MongoClient } from 'mongodb';
import { mongoSource, snapshotBackup } from '../../src/index.js';
import { slowPartsClient } from './slow-parts-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const client = slowPartsClient(env.CHILD_S3_ENDPOINT!, Number(env.SLOW_PART_MS ?? 0));
  const mongo = await MongoClient.connect(env.MONGODB_URI!);
  const job = snapshotBackup({
    source: mongoSource({ db: mongo.db(env.CHILD_DB!), batchSize: 200 }),
    target: { client, bucket: env.CHILD_BUCKET!, prefix: 'killed' },
    partSizeBytes: 5 * 1024 * 1024,
    partsInFlight: 2,
    memoryBudgetBytes: 64 * 1024 * 1024,
    leaseMs: Number(env.CHILD_LEASE_MS ?? 3000),
  });
  const result = await job.run({ requestId: 'child' });
  process.stdout.write(`done ${result.status}\n`);
  await mongo.close();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
