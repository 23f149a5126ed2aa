/**
 * rvl D4: `@smithy/node-http-handler` rejects its socket-inactivity (and connect) timeout with an
 * error named `TimeoutError` and no code, which the S3 store's classifier (socket codes only)
 * passed through raw, though the README and `s3LeaseStore`'s TSDoc promise
 * `LeaseStoreUnavailableError` for a timed-out socket. A listener that accepts and never answers
 * stands for the endpoint (a local TCP server: the shape of a silent endpoint, no S3 behaviour).
 */
import { createServer, type Socket } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError } from '../src/index.js';
import { s3LeaseStore } from '../src/s3.js';
import { s3Client } from './support/backends.js';

describe('s3LeaseStore on an endpoint that accepts and never answers', () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  let client: S3Client;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    client = s3Client(`http://127.0.0.1:${port}`, { maxAttempts: 1, requestHandler: { socketTimeout: 500 } });
  });
  afterAll(async () => {
    client?.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("the HTTP handler's socket timeout is LEASE_STORE_UNAVAILABLE with the SDK's TimeoutError as cause", async () => {
    const store = s3LeaseStore({ client, bucket: 'silent' });
    for (const call of [() => store.get('k'), () => store.claim({ key: 'k', owner: 'o', leaseMs: 1000 })]) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
      expect(error).toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', status: 503, retryable: true, store: 's3', cause: { name: 'TimeoutError' } });
    }
  });
});
