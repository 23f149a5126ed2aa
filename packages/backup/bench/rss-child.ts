/**
 * One snapshot backup in a fresh process, for the RSS bench. Memory is sampled all the time:
 * `process.memoryUsage.rss()` every 10 ms (cheap), the full breakdown (V8 heap, external,
 * array buffers) every 100 ms, and the RSS when each part upload returns, so the bench can
 * tell a peak from a trend. Prints one JSON line on stdout.
 */
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { mongoSource, snapshotBackup } from '../src/index.js';
import { s3Client } from '../test/s3-client.js';

interface Peaks {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

async function main(): Promise<void> {
  const env = process.env;
  const peaks: Peaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const full = (): void => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peaks) as Array<keyof Peaks>) peaks[k] = Math.max(peaks[k], m[k]);
  };
  const fast = setInterval(() => (peaks.rss = Math.max(peaks.rss, process.memoryUsage.rss())), 10);
  const slow = setInterval(full, 100);
  const baseline = process.memoryUsage.rss();
  const s3 = s3Client(env.CHILD_S3_ENDPOINT!);
  // RSS each time a part upload returns: the steady state, part after part.
  const atPart: number[] = [];
  const client = {
    async send(command: unknown, options?: unknown) {
      const out = await s3.send(command as never, options as never);
      if (command instanceof UploadPartCommand) atPart.push(process.memoryUsage.rss());
      return out;
    },
  };
  const mongo = await MongoClient.connect(env.MONGODB_URI!);
  const started = Date.now();
  const result = await snapshotBackup({
    source: mongoSource({ db: mongo.db(env.CHILD_DB!), collections: [env.CHILD_COLLECTION!], batchSize: Number(env.CHILD_BATCH ?? 1000) }),
    target: { client, bucket: env.CHILD_BUCKET!, prefix: env.CHILD_PREFIX! },
    partSizeBytes: 5 * 1024 * 1024,
    partsInFlight: 3,
    memoryBudgetBytes: 128 * 1024 * 1024,
  }).run();
  const ms = Date.now() - started;
  clearInterval(fast);
  clearInterval(slow);
  full();
  await mongo.close();
  process.stdout.write(
    `${JSON.stringify({ docs: result.status === 'complete' ? result.records : -1, bytes: result.status === 'complete' ? result.bytes : -1, ms, baseline, peaks, atPart })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name}\n`);
  process.exit(1);
});
