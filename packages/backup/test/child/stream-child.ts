/**
 * A stream backup in its own process, killed with SIGKILL by the test. Prints `object` to
 * stdout after each stream object is written; after the `KILL_AT`-th it prints `waiting` and
 * stops right there (the object is in S3, its index entry and checkpoint are not), so the
 * kill lands between an object and its checkpoint however slow the machine is. The lease
 * keeps being renewed meanwhile, as a live sink's would. With `PAUSE_AFTER=index` it stops
 * after the `KILL_AT`-th object's hourly index instead (listed, not yet checkpointed).
 * `CHILD_LEASE_MS` sets the stream's `leaseMs` (default 1500; renewed every third of it).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { redisStreamSource, streamBackup } from '../../src/index.js';
import { s3Client } from '../s3-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const s3 = s3Client(env.CHILD_S3_ENDPOINT!);
  const killAt = Number(env.KILL_AT);
  const pauseAfter = env.PAUSE_AFTER === 'index' ? 'index.json' : '.ndjson.gz';
  let paused = 0;
  const client = {
    async send(command: { input: { Key?: string } }, options?: unknown) {
      const out = await s3.send(command as never, options as never);
      if (command instanceof PutObjectCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
        process.stdout.write('object\n');
      }
      if (command instanceof PutObjectCommand && String(command.input.Key).endsWith(pauseAfter)) {
        if (++paused === killAt) {
          process.stdout.write('waiting\n');
          await new Promise<never>(() => setInterval(() => undefined, 60_000));
        }
      }
      return out;
    },
  };
  const redis = new Redis(env.REDIS_URL!);
  const job = streamBackup({
    name: env.CHILD_STREAM!,
    source: redisStreamSource({ client: redis, key: env.CHILD_KEY!, envelopeField: 'e', count: 250 }),
    target: { client, bucket: env.CHILD_BUCKET!, prefix: 'stream' },
    buffer: { maxBytes: 64 * 1024, maxMs: 60_000 },
    maxRecords: 250,
    leaseMs: Number(env.CHILD_LEASE_MS ?? 1500),
  });
  await job.run({ requestId: `child-${process.pid}` });
  process.stdout.write('done\n');
  redis.disconnect();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
