/**
 * A Redis of the test file's own that the test may kill and start again (`appendfsync always`:
 * the claims survive a kill), a client that fails at once while disconnected
 * (`enableOfflineQueue: false`, as @steadyfn/connections' profile does), and an idempotency
 * store on it for the inbox. Shared by the inbox restart tests.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

export interface RestartableRedis {
  server: OwnServer & { url: string };
  client: Redis;
  /** A `redisStore` on `client` under a random prefix starting with `name`. */
  store: IdempotencyStore;
  close(): Promise<void>;
}

export async function restartableRedis(name: string): Promise<RestartableRedis> {
  const server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  const client = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  await eventually(() => client.status === 'ready', 5_000);
  const store = redisStore({ client, prefix: `${name}:${randomUUID().slice(0, 8)}:` });
  return {
    server,
    client,
    store,
    close: async () => {
      client.disconnect();
      await server.dispose();
    },
  };
}
