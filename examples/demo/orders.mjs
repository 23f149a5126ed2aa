// The one function of the demo: record an order in MongoDB, count it in Redis, answer JSON.
// Nothing here knows which provider calls it. Clients come from @steadyfn/connections
// (cached across warm invocations, checked after a thaw); @steadyfn/idempotency makes a
// retried request with the same Idempotency-Key replay the first answer instead of
// recording the order twice.
import { connections } from '@steadyfn/connections';
import { mongo } from '@steadyfn/connections/mongodb';
import { redis } from '@steadyfn/connections/redis';
import { handler, httpResult } from '@steadyfn/handler';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { z } from 'zod';

// Module scope: one handle per client for the life of the instance.
const cache = redis(); // REDIS_URL
const db = mongo({ db: 'steadyfn_demo' }); // MONGODB_URI

export const createOrder = handler(
  {
    name: 'create-order',
    input: z.object({ sku: z.string().min(1), qty: z.coerce.number().int().positive() }),
    use: [
      connections({ redis: cache, mongo: db }, { log: false }),
      idempotency({ store: redisStore({ client: () => cache.get() }), ttlMs: 3_600_000, localCache: false }),
    ],
  },
  async (input, ctx) => {
    const orderId = `${ctx.provider}-${ctx.requestId}`;
    await ctx.mongo.db.collection('orders').insertOne({ _id: orderId, ...input, provider: ctx.provider, at: new Date() });
    const ordersSoFar = await ctx.redis.incr('steadyfn:demo:orders');
    return httpResult({ status: 201, headers: { location: `/orders/${orderId}` }, body: { orderId, ...input, ordersSoFar } });
  },
);

export async function closeClients() {
  await Promise.allSettled([cache.close(), db.close()]);
}
