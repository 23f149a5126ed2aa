// Writes the catalog the functions load at start: `npm run seed` (REDIS_URL, ORDERS_PREFIX).
// Writers change the value first and bump its version after, so a reader never keeps a stale
// catalog under a new version.
import { configFromEnv } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { z } from 'zod';

// Checked as the functions check theirs: an unset REDIS_URL is said, not a local Redis seeded.
const env = configFromEnv(
  z.object({
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
    ORDERS_PREFIX: z.string().regex(/^[a-z0-9-]{1,40}$/).default('shop'),
  }),
);
const prefix = env.ORDERS_PREFIX;
const catalog = {
  'tea-42': { name: 'Assam tea, 250 g', priceCents: 650 },
  'mug-7': { name: 'Stoneware mug', priceCents: 1200 },
  'pot-1': { name: 'Cast iron teapot', priceCents: 4500 },
};
const redis = new Redis(env.REDIS_URL);
await redis.set(`${prefix}:catalog`, JSON.stringify(catalog));
const version = await redis.incr(`${prefix}:catalog:version`);
console.log(`catalog of ${Object.keys(catalog).length} products written to ${prefix}:catalog (version ${version})`);
redis.disconnect();
