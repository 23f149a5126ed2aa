/**
 * A retention run in its own process that kills itself (SIGKILL) just before it sends the
 * DeleteObject whose key matches `KILL_AT` (a regular expression): a real crash part way
 * through a deletion. Prints `delete <key>` for each delete it sends.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { applyRetention } from '../../src/index.js';
import { s3Client } from '../s3-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const s3 = s3Client(env.CHILD_S3_ENDPOINT!);
  const killAt = new RegExp(env.KILL_AT!);
  const client = {
    async send(command: { input: { Key?: string } }, options?: unknown) {
      if (command instanceof DeleteObjectCommand && String(command.input.Key).startsWith(`${env.CHILD_PREFIX}/`)) {
        if (killAt.test(String(command.input.Key))) process.kill(process.pid, 'SIGKILL');
        process.stdout.write(`delete ${command.input.Key}\n`);
      }
      return s3.send(command as never, options as never);
    },
  };
  await applyRetention({ storage: { client, bucket: env.CHILD_BUCKET!, prefix: env.CHILD_PREFIX! }, keepLast: 1, leaseMs: Number(env.CHILD_LEASE_MS ?? 3000) });
  process.stdout.write('done\n');
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
