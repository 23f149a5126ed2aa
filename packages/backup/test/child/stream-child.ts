/**
 * A stream backup in its own process, killed with SIGKILL by the test. Prints `object` to
 * stdout after each stream object is written, then waits `SLOW_MS` before going on (so the
 * kill lands between the object and its checkpoint).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { redisStreamSource, streamBackup } from '../../src/index.js';

async function main(): Promise<void> {
  const env = process.env;
  const s3 = new S3Client({ endpoint: env.CHILD_S3_ENDPOINT!, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const slowMs = Number(env.SLOW_MS ?? 0);
  const client = {
    async send(command: { input: { Key?: string } }, options?: unknown) {
      const out = await s3.send(command as never, options as never);
      if (command instanceof PutObjectCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
        process.stdout.write('object\n');
        await new Promise((r) => setTimeout(r, slowMs));
      }
      return out;
    },
  };
  const redis = new Redis(env.REDIS_URL!);
  const job = streamBackup({
    name: env.CHILD_STREAM!,
    source: redisStreamSource({ client: redis, key: env.CHILD_KEY!, envelopeField: 'envelope', count: 250 }),
    target: { client, bucket: env.CHILD_BUCKET!, prefix: 'stream' },
    buffer: { maxBytes: 64 * 1024, maxMs: 60_000 },
    maxRecords: 250,
    leaseMs: 1500,
  });
  await job.run({ requestId: `child-${process.pid}` });
  process.stdout.write('done\n');
  redis.disconnect();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
