// A test whose service is down must fail at once with a message naming the service.
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { requireService } from './env.js';

const saved = process.env.REDIS_URL;
afterEach(() => {
  process.env.REDIS_URL = saved;
});

/** A loopback port nothing listens on: bound, read, and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Bounded by the timeout it was given, not by a hang: the test's own timeout (5 s, against the
// probe's 2 s) fails a probe that hangs — no clock read in the test.
it('fails fast, naming the service and how to start it, when nothing listens', async () => {
  process.env.REDIS_URL = `redis://127.0.0.1:${await closedPort()}`;
  const error = (await requireService('redis', 2_000).catch((e: unknown) => e)) as Error;
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toMatch(/redis/i);
  expect(error.message).toContain('services.sh start');
}, 5_000);

it('passes when the service listens', async () => {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.REDIS_URL = `redis://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await expect(requireService('redis', 2_000)).resolves.toBeUndefined();
  } finally {
    server.close();
  }
});
