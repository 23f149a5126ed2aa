// One attempt of an idempotent function that writes state and an event through the outbox, as
// its own process, so the test can SIGKILL it at a chosen point:
//
//   after-write    the outbox's atomic write returned (state, event, request marker — and the
//                  idempotency completion where it joins the write), the idempotency plugin's own
//                  completion has not run: a plugin between the two hangs there
//   after-update   embedded mode: the document update returned inside the function, before the
//                  function returned (its answer is not kept yet)
//   none           runs to the end and prints the answer
//
// Env: CRASH_MODE redis | cluster | embedded | transaction (MONGODB_REPLSET_URI), CRASH_POINT, CRASH_PREFIX (Redis), CRASH_DB (FerretDB),
// CRASH_REQUEST (the delivery id: the idempotency key), CRASH_QUEUE_URL.
// Runs the TypeScript sources: node --experimental-transform-types --conditions=steadyfn-source.
import '../../../../test/support/register-ts.mjs';

const { randomUUID } = await import('node:crypto');
const { handler } = await import('@steadyfn/handler');
const { idempotency, redisStore, mongoStore } = await import('@steadyfn/idempotency');
const { redisLeaseStore, mongoLeaseStore } = await import('@steadyfn/lease');
const { outbox, redisOutbox, mongoEmbeddedOutbox } = await import('../../src/index.ts');
const { sqsSender } = await import('../../src/sqs.ts');
const { sqsClient } = await import('../support.ts');
const { clusterNodes } = await import('../../../../test/support/redis.ts');
const { z } = await import('zod');

const { CRASH_MODE: mode, CRASH_POINT: point, CRASH_PREFIX: prefix, CRASH_DB: dbName, CRASH_REQUEST: request, CRASH_QUEUE_URL: queueUrl } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const hang = () => new Promise(() => undefined);

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) } };
const sqs = await sqsClient();
const sender = sqsSender({ client: sqs, queueUrl });
const idemOptions = { ttlMs: 3_600_000, leaseMs: 2_000, localCache: false };

let plugins;
let fn;
if (mode === 'redis' || mode === 'cluster') {
  const { Redis, Cluster } = await import('ioredis');
  const client = mode === 'redis' ? new Redis(process.env.REDIS_URL) : new Cluster(clusterNodes());
  const lease = redisLeaseStore({ client, prefix: `${prefix}lease:` });
  const store = redisStore({ client, prefix: `${prefix}idem:`, hashTag: 'scope' });
  plugins = [idempotency({ store, ...idemOptions }), outbox({ events, store: redisOutbox({ client, prefix }), relay: { sender, lease } })];
  fn = async (input, ctx) => {
    const key = `${prefix}order:{${input.orderId}}`;
    ctx.outbox.call('INCRBY', `${prefix}charged:{${input.orderId}}`, input.amountCents);
    ctx.outbox.call('HSET', key, 'status', 'paid');
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: input.orderId, payload: { amountCents: input.amountCents } });
    // A different value on every run: the same answer twice means it was replayed, not recomputed.
    return { paid: input.orderId, receipt: randomUUID() };
  };
} else if (mode === 'transaction') {
  const { MongoClient } = await import('mongodb');
  const { mongoTransactionOutbox } = await import('../../src/index.ts');
  const mongo = await new MongoClient(process.env.MONGODB_REPLSET_URI).connect();
  const db = mongo.db(dbName);
  const lease = mongoLeaseStore({ collection: db.collection('leases') });
  const store = mongoStore({ collection: db.collection('idempotency') });
  plugins = [idempotency({ store, ...idemOptions }), outbox({ events, store: mongoTransactionOutbox({ client: mongo, db }), relay: { sender, lease } })];
  fn = async (input, ctx) => {
    await db.collection('orders').updateOne({ _id: input.orderId }, { $inc: { charged: input.amountCents }, $set: { status: 'paid' } }, { session: ctx.outbox.session });
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: input.orderId, payload: { amountCents: input.amountCents } });
    return { paid: input.orderId, receipt: randomUUID() };
  };
} else {
  const { MongoClient } = await import('mongodb');
  const mongo = await new MongoClient(process.env.MONGODB_URI).connect();
  const db = mongo.db(dbName);
  const lease = mongoLeaseStore({ collection: db.collection('leases') });
  const store = mongoStore({ collection: db.collection('idempotency') });
  plugins = [idempotency({ store, ...idemOptions }), outbox({ events, store: mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order', writeLease: lease }), relay: { sender, lease } })];
  fn = async (input, ctx) => {
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: input.orderId, payload: { amountCents: input.amountCents } });
    const result = await ctx.outbox.updateOne({ _id: input.orderId, status: 'validated' }, { $set: { status: 'paid' }, $inc: { charged: input.amountCents } });
    if (point === 'after-update') {
      say({ point, duplicate: result.duplicate });
      await hang();
    }
    return { paid: input.orderId, receipt: randomUUID(), duplicate: result.duplicate };
  };
}

// Between idempotency (outer) and the outbox (inner): its `after` runs after the outbox wrote and before idempotency completes.
const killer = {
  name: 'crash-point',
  async after(_ctx, result) {
    if (point !== 'after-write') return;
    say({ point, result });
    await hang();
  },
};

const pay = handler({ input: z.object({ orderId: z.string(), amountCents: z.number() }), use: [plugins[0], killer, plugins[1]], logSink: () => undefined }, fn);
say({ started: true });
try {
  const answer = await pay.invoke({ orderId: 'o-1', amountCents: 500 }, { deliveryId: request });
  say({ answer });
} catch (error) {
  say({ error: error.code ?? error.name });
}
process.exit(0);
