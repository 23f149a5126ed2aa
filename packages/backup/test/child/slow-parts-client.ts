/**
 * An S3 client for child processes the tests kill mid-backup: each UploadPart is held
 * `slowMs` after it returns, and `part <n>` is printed to stdout as it returns (the test
 * kills on that line).
 */
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../s3-client.js';

export function slowPartsClient(endpoint: string, slowMs: number) {
  const s3 = s3Client(endpoint);
  return {
    async send(command: { input: { PartNumber?: number } }, options?: unknown) {
      const out = await s3.send(command as never, options as never);
      if (command instanceof UploadPartCommand) {
        process.stdout.write(`part ${command.input.PartNumber}\n`);
        await new Promise((r) => setTimeout(r, slowMs));
      }
      return out;
    },
  };
}
