/**
 * s54-fxo (review rvx), embedded mode on FerretDB: the answer the outbox keeps beside the
 * applied request keys (`_outboxAnswers`, what a retry's duplicate update replays) and the
 * idempotency record's answer, when a plugin fails or recovers around the outbox:
 *
 * - an `onError` fallback listed after the outbox recovers from the function's failure: its
 *   answer was kept beside the failed run's applied update, and the retry replayed the fallback
 *   (the function's success never answered); now nothing is kept for a failed run;
 * - the function returned, a plugin after it failed, the fallback recovered: the fallback's
 *   answer was kept and the record released (the retry ran the function and replayed the
 *   fallback); now the function's result is kept and the record completed with it;
 * - `use: [idempotency, x, outbox]`, `x.after` fails after the outbox wrote: the answer kept
 *   offered the completion to a write that never carried it, so the record was released and the
 *   function ran again; now it is completed (the effects are written) and the retry replays.
 */
import { randomUUID } from 'node:crypto';
import { handler, SteadyError, type Plugin } from '@steadyfn/handler';
import { idempotency, mongoStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { mongoEmbeddedOutbox, outbox } from '../src/index.js';
import { useMongo } from './support.js';
import { audit, codeOf, fallback, shipped } from './after-failures.js';

/** Plugins of any context and state, listed in a chosen order. */
type AnyPlugin = Plugin<any, any>;

describe('on FerretDB embedded: the answers kept when a plugin fails or recovers around the outbox', () => {
  const mongo = useMongo();

  /** Runs `order` three times with one delivery id: the answers, the runs, the document's count. */
  const scenario = async (order: (box: AnyPlugin, idem: AnyPlugin) => AnyPlugin[], failFirstRun: boolean, x?: Plugin & { down: boolean }) => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection, aggregateType: 'order', writeLease: mongo.lease });
    const docs = mongo.db.collection<{ _id: string } & Record<string, unknown>>(collection);
    await docs.insertOne({ _id: 'a', count: 0 });
    const idem = idempotency({ store: mongoStore({ collection: mongo.db.collection(`idem_${collection}`) }), ttlMs: 3_600_000, localCache: false });
    let runs = 0;
    const pay = handler({ name: `pay-${randomUUID()}`, logSink: () => undefined, use: order(outbox({ events: shipped, store }), idem) }, async (_input, ctx) => {
      runs++;
      const box = (ctx as unknown as { outbox: { add(d: unknown): unknown; updateOne(f: unknown, u: unknown): Promise<unknown> } }).outbox;
      box.add({ type: 'OrderShipped', aggregateId: 'a', payload: {} });
      await box.updateOne({ _id: 'a' }, { $inc: { count: 1 } });
      if (failFirstRun && runs === 1) throw new SteadyError('WAREHOUSE_DOWN', 'warehouse unavailable', { status: 503, retryable: true });
      return { paid: true };
    });
    const deliveryId = randomUUID();
    const answers: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf));
      if (x) x.down = false;
    }
    return { answers, runs, count: (await docs.findOne({ _id: 'a' }))?.count };
  };

  it('[idempotency, outbox, fallback], the first run throws after its update: no fallback kept, the retry answers the function\'s result', async () => {
    const { answers, runs, count } = await scenario((box, idem) => [idem, box, fallback], true);
    expect(answers).toEqual([{ fallback: true }, { paid: true }, { paid: true }]);
    expect(runs).toBe(2);
    // The failed run's update was written at once (embedded); the retry's found it applied.
    expect(count).toBe(1);
  });

  it('[idempotency, outbox, fallback, x], the function returned, x.after failed: the record keeps the function\'s result, the retry replays it', async () => {
    const x = audit();
    const { answers, runs, count } = await scenario((box, idem) => [idem, box, fallback, x], false, x);
    expect(answers).toEqual([{ fallback: true }, { paid: true }, { paid: true }]);
    expect(runs).toBe(1);
    expect(count).toBe(1);
  });

  it('[idempotency, x, outbox], x.after failed after the outbox wrote: completed, the retry replays without running the function', async () => {
    const x = audit();
    const { answers, runs, count } = await scenario((box, idem) => [idem, x, box], false, x);
    expect(answers).toEqual(['AUDIT_FAILED', { paid: true }, { paid: true }]);
    expect(runs).toBe(1);
    expect(count).toBe(1);
  });
});
