/**
 * A snapshot backup in its own process that reports its peak RSS (sampled every 20 ms) and
 * its throughput, for the RSS bench: `peak <bytes> docs <n> ms <ms>`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { mongoSource, snapshotBackup } from '../src/index.js';

async function main(): Promise<void> {
  const env = process.env;
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const s3 = new S3Client({ endpoint: env.CHILD_S3_ENDPOINT!, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const mongo = await MongoClient.connect(env.MONGODB_URI!);
  const started = Date.now();
  const result = await snapshotBackup({
    source: mongoSource({ db: mongo.db(env.CHILD_DB!), collections: [env.CHILD_COLLECTION!], batchSize: 5000 }),
    target: { client: s3, bucket: env.CHILD_BUCKET!, prefix: env.CHILD_PREFIX! },
    partSizeBytes: 5 * 1024 * 1024,
    partsInFlight: 3,
    memoryBudgetBytes: 128 * 1024 * 1024,
  }).run();
  const ms = Date.now() - started;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(`peak ${peak} docs ${result.status === 'complete' ? result.records : -1} ms ${ms}\n`);
  await mongo.close();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name}\n`);
  process.exit(1);
});
