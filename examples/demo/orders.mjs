// The one function of the demo: record an order in MongoDB, count it in Redis, answer JSON.
// Nothing here knows which provider calls it.
import { handler, httpResult } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { z } from 'zod';

// Module scope: created once per instance, reused by warm invocations.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379', { lazyConnect: true, maxRetriesPerRequest: 1 });
const mongo = new MongoClient(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117/', { serverSelectionTimeoutMS: 3000 });

export const createOrder = handler(
  {
    name: 'create-order',
    input: z.object({ sku: z.string().min(1), qty: z.coerce.number().int().positive() }),
  },
  async (input, ctx) => {
    const orderId = `${ctx.provider}-${ctx.requestId}`;
    await mongo.db('steadyfn_demo').collection('orders').insertOne({ _id: orderId, ...input, provider: ctx.provider, at: new Date() });
    const total = await redis.incr('steadyfn:demo:orders');
    return httpResult({ status: 201, headers: { location: `/orders/${orderId}` }, body: { orderId, ...input, ordersSoFar: total } });
  },
);

export async function closeClients() {
  await Promise.allSettled([redis.quit(), mongo.close()]);
}
