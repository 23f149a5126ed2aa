/**
 * Review finding (embedded mode): with the MongoDB server unreachable (down, restarting, a
 * partition), the update failed with the driver's own error, which the handler answered as
 * `INTERNAL` (500) — where Redis mode answers `OUTBOX_STORE_UNAVAILABLE` (503, retryable, with
 * `Retry-After`), the code the README lists for it. The embedded write now maps the driver's
 * unreachable-server errors to `OUTBOX_STORE_UNAVAILABLE`; nothing is written either way. The
 * real driver against a closed port (the server-restart case itself was run by hand against a
 * FerretDB of the review's own, killed and restarted: same error, and the retry after the
 * restart wrote once).
 */
import { createServer } from 'node:net';
import { handler } from '@steadyfn/handler';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox } from '../../src/index.js';

let client: MongoClient;
beforeAll(async () => {
  // A port nothing listens on: bound, then closed.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 300, connectTimeoutMS: 300 });
});
afterAll(async () => {
  await client?.close();
});

describe('embedded outbox with the server unreachable', () => {
  it('answers OUTBOX_STORE_UNAVAILABLE (retryable)', async () => {
    const store = mongoEmbeddedOutbox({ db: client.db('shop'), collection: 'orders', aggregateType: 'order', atomicity: 'server' });
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
    const pay = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } });
    });
    const error = await pay.invoke({}, { deliveryId: 'd-1' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_STORE_UNAVAILABLE', retryable: true });
  });
});
