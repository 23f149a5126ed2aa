/**
 * Particular/NServiceBus#3330 ("Should Outbox result in synchronized processing for the same
 * ID?")
 * https://github.com/Particular/NServiceBus/issues/3330
 *
 * The outbox deduplicated a message only once its first processing had committed: two copies
 * of one message id received at the same time — a scaled-out endpoint, an at-least-once
 * transport handing the copy to another instance — both ran the handler, and only the second
 * commit failed. Handlers with effects outside the database (an e-mail, a payment call) made
 * them twice.
 *
 * steadyfn claims a message's key before the function runs, so two copies running at once are
 * one run and one `IDEMPOTENCY_IN_PROGRESS` (retryable: that copy is a batch item failure and
 * comes back), and the copy that comes back replays. Replayed on FerretDB (the MongoDB store)
 * and on Redis Cluster: two instances (no local cache) each receive an SQS batch holding the
 * same three messages while the first instance's function is still running; every message's
 * effect happens once, each copy the second instance could not claim is reported failed, and
 * its redelivery runs nothing and reports none.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '../../packages/handler/src/index.js';
import { idempotency } from '../../packages/idempotency/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deferred, openBackend, silentSink, type Backend, type BackendName } from '../../packages/idempotency/test/support.js';
import { eventually } from '../support/wait.js';
import { lambdaContext, sqsRecord } from './support.js';

describe.each(['mongodb', 'cluster'] as BackendName[])('NServiceBus#3330: copies of one message on two instances at once run once (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('the second instance reports the copies in progress; their redelivery replays; each effect happened once', async () => {
    const fn = `payments-${randomUUID()}`;
    const charged: string[] = [];
    const gate = deferred();
    let started = 0;
    const instance = () =>
      handler({ name: fn, logSink: silentSink(), body: 'json', input: z.object({ paymentId: z.string() }), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, async (input) => {
        started += 1;
        await gate.promise;
        charged.push(input.paymentId);
        return { charged: input.paymentId };
      });
    const [a, b] = [instance(), instance()];
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const batch = () => ids.map((id, n) => sqsRecord(JSON.stringify({ paymentId: `p-${n}` }), { id }));

    const first = a.aws({ Records: batch() }, lambdaContext(60_000));
    await eventually(() => started === 3, 20_000);
    const second = await b.aws({ Records: batch() }, lambdaContext(60_000));
    expect(second).toEqual({ batchItemFailures: ids.map((id) => ({ itemIdentifier: id })) });
    gate.resolve();
    expect(await first).toEqual({ batchItemFailures: [] });

    // SQS returns the copies the second instance failed; they replay.
    expect(await b.aws({ Records: batch() }, lambdaContext(60_000))).toEqual({ batchItemFailures: [] });
    expect(charged.sort()).toEqual(['p-0', 'p-1', 'p-2']);
    expect(started).toBe(3);
  }, 60_000);
});
