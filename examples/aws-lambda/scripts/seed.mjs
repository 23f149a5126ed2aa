// Writes the catalog the functions load at start: `npm run seed` (REDIS_URL, ORDERS_PREFIX).
// Writers change the value first and bump its version after, so a reader never keeps a stale
// catalog under a new version.
import { Redis } from 'ioredis';

const prefix = process.env.ORDERS_PREFIX ?? 'shop';
const catalog = {
  'tea-42': { name: 'Assam tea, 250 g', priceCents: 650 },
  'mug-7': { name: 'Stoneware mug', priceCents: 1200 },
  'pot-1': { name: 'Cast iron teapot', priceCents: 4500 },
};
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
await redis.set(`${prefix}:catalog`, JSON.stringify(catalog));
const version = await redis.incr(`${prefix}:catalog:version`);
console.log(`catalog of ${Object.keys(catalog).length} products written to ${prefix}:catalog (version ${version})`);
redis.disconnect();
