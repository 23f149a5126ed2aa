/**
 * A retention run in its own process that kills itself (SIGKILL) just before it sends the
 * DeleteObject (or AbortMultipartUpload) whose key matches `KILL_AT` (a regular expression): a
 * real crash part way through a deletion. Prints `delete <key>` (`abort <key>`) for each one it
 * sends. `CHILD_NOW_OFFSET_MS` moves its clock ahead (a run days later).
 */
import { AbortMultipartUploadCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { applyRetention } from '../../src/index.js';
import { s3Client } from '../s3-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const s3 = s3Client(env.CHILD_S3_ENDPOINT!);
  const killAt = new RegExp(env.KILL_AT!);
  const client = {
    async send(command: { input: { Key?: string } }, options?: unknown) {
      const abort = command instanceof AbortMultipartUploadCommand;
      if ((command instanceof DeleteObjectCommand || abort) && String(command.input.Key).startsWith(`${env.CHILD_PREFIX}/`)) {
        if (killAt.test(String(command.input.Key))) process.kill(process.pid, 'SIGKILL');
        process.stdout.write(`${abort ? 'abort' : 'delete'} ${command.input.Key}\n`);
      }
      return s3.send(command as never, options as never);
    },
  };
  await applyRetention({ storage: { client, bucket: env.CHILD_BUCKET!, prefix: env.CHILD_PREFIX! }, keepLast: 1, leaseMs: Number(env.CHILD_LEASE_MS ?? 3000), now: () => Date.now() + Number(env.CHILD_NOW_OFFSET_MS ?? 0) });
  process.stdout.write('done\n');
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
