/**
 * A tiny local HTTP server standing in for one answer's shape of an S3-compatible server (a
 * fake, not an S3 server — for refusals real servers here never give), with an S3 client
 * pointed at it: started before the file's tests, closed after. `answer` gets each request
 * once its body has been read.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { s3Client } from './backends.js';

export function useFakeS3Endpoint(answer: (req: IncomingMessage, res: ServerResponse) => void): { client: () => S3Client } {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  let client: S3Client | undefined;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = s3Client(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { client: () => client! };
}
