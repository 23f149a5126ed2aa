/**
 * The functions the cold-start bench loads: one small Lambda function (validated input,
 * idempotency on Redis) written as each side's docs write it, and the libraries alone.
 *
 * Both sides connect to Redis on first use (ioredis connects from its constructor; the peer's
 * `@redis/client` connect is started in module scope and awaited by the first invocation),
 * validate with the same zod, key the record on the whole event, and keep it an hour.
 */

/** The Redis key prefix of one bench run, so records never collide with anyone else's. */
export type Prefix = string;

/** steadyfn as its READMEs write it: ioredis imported by the function (the idempotency README). */
export const ourApp = (entry: string, prefix: Prefix): string => `
import { handler } from '${entry}';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { Redis } from 'ioredis';
import { z } from 'zod';
const redis = new Redis(process.env.REDIS_URL);
export const main = handler(
  { input: z.object({ orderId: z.string(), amount: z.number() }), use: [idempotency({ store: redisStore({ client: redis, prefix: '${prefix}' }), ttlMs: 3_600_000 })] },
  async (order) => ({ charged: order.amount }),
);
export const close = () => redis.disconnect();
`;

/** steadyfn with the client from @steadyfn/connections: ioredis is loaded when the handle first connects. */
export const ourConnectionsApp = (entry: string, prefix: Prefix): string => `
import { handler } from '${entry}';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { redis } from '@steadyfn/connections/redis';
import { closeAll } from '@steadyfn/connections';
import { z } from 'zod';
const cache = redis();
export const main = handler(
  { input: z.object({ orderId: z.string(), amount: z.number() }), use: [idempotency({ store: redisStore({ client: () => cache.get(), prefix: '${prefix}' }), ttlMs: 3_600_000 })] },
  async (order) => ({ charged: order.amount }),
);
export const close = () => closeAll();
`;

/**
 * The floor: the same function with neither library — zod and ioredis called directly, the
 * record keyed on a SHA-256 of the whole event (both libraries hash the event), claimed with a
 * SET NX and completed with a SET of the result. No steadyfn code at all: steadyfn ÷ peer
 * cannot go below floor ÷ peer, so the bench prints both (and steadyfn ÷ floor, our own share).
 */
export const floorApp = (prefix: Prefix): string => `
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
const redis = new Redis(process.env.REDIS_URL);
const Order = z.object({ orderId: z.string(), amount: z.number() });
export const main = async (event) => {
  const order = Order.parse(event);
  const key = '${prefix}floor:' + createHash('sha256').update(JSON.stringify(event)).digest('base64url');
  if ((await redis.set(key, '{"status":"INPROGRESS"}', 'PX', 3_600_000, 'NX')) === null) {
    const record = JSON.parse((await redis.get(key)) ?? '{}');
    if (record.status !== 'COMPLETED') throw new Error('already in progress');
    return record.result;
  }
  const result = { charged: order.amount };
  await redis.set(key, JSON.stringify({ status: 'COMPLETED', result }), 'PX', 3_600_000);
  return result;
};
export const close = () => redis.disconnect();
`;

/**
 * The peer as Powertools' docs write it: middy, its idempotency middleware over
 * CachePersistenceLayer with the client its docs use (\`@redis/client\`; its other example,
 * Valkey GLIDE, is a native addon), the same zod. Its keys start with the function name
 * (\`AWS_LAMBDA_FUNCTION_NAME\`, set per bench run).
 */
export const peerApp = (): string => `
import middy from '@middy/core';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { createClient } from '@redis/client';
import { z } from 'zod';
const client = createClient({ url: process.env.REDIS_URL });
const connected = client.connect();
const Order = z.object({ orderId: z.string(), amount: z.number() });
const idempotent = middy(async (event) => ({ charged: Order.parse(event).amount })).use(
  makeHandlerIdempotent({
    persistenceStore: new CachePersistenceLayer({ client }),
    config: new IdempotencyConfig({ expiresAfterSeconds: 3600 }),
  }),
);
export const main = async (event, context) => {
  await connected;
  return idempotent(event, context);
};
export const close = () => client.destroy();
`;

/** Every export of each module, kept (namespace imports: nothing is tree-shaken away). */
export const library = (modules: ReadonlyArray<string>): string =>
  modules.map((m, i) => `import * as m${i} from '${m}';`).join('\n') + `\nexport default [${modules.map((_, i) => `m${i}`).join(', ')}];\n`;
