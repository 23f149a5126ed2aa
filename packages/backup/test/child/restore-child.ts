/**
 * A restore in its own process (`TMPDIR` set by the test, so its spool goes there). With
 * `PAUSE=1` it prints `waiting` and stops at the first read of a backup's part — the spool
 * already made — to be killed with SIGKILL there (`PAUSE_GET=<n>`: at the n-th read; with
 * `SPOOL_BYTES=0` the second read is the apply's, after the target's lock and marker were
 * taken); otherwise it restores and prints `done`. `LOCK_MS` sets the restore's `lockMs`.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { mongoTarget, restore } from '../../src/index.js';
import { s3Client } from '../s3-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const s3 = s3Client(env.CHILD_S3_ENDPOINT!);
  let gets = 0;
  const client = {
    async send(command: { input: { Key?: string } }, options?: unknown) {
      if (env.PAUSE === '1' && command instanceof GetObjectCommand && String(command.input.Key).endsWith('.ndjson.gz') && ++gets === Number(env.PAUSE_GET ?? 1)) {
        process.stdout.write('waiting\n');
        await new Promise<never>(() => setInterval(() => undefined, 60_000));
      }
      return s3.send(command as never, options as never);
    },
  };
  const mongo = await MongoClient.connect(env.MONGODB_URI!);
  const report = await restore({ backup: { storage: { client, bucket: env.CHILD_BUCKET!, prefix: env.CHILD_PREFIX! }, id: 'latest' }, target: mongoTarget({ db: mongo.db(env.CHILD_DB!) }),
    ...(env.SPOOL_BYTES ? { spoolBytes: Number(env.SPOOL_BYTES) } : {}),
    ...(env.LOCK_MS ? { lockMs: Number(env.LOCK_MS) } : {}),
  });
  process.stdout.write(`done ${report.records} ${report.reads}\n`);
  await mongo.close();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
