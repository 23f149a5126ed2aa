/**
 * Review finding D1 (order per aggregate on a standard queue): the sender put several events of
 * one aggregate in one `SendMessageBatch` on a standard queue (`onePerGroupPerBatch` was on for
 * FIFO only). SQS judges a call's entries one by one: when it refused event k for good (a sender
 * fault, quarantined) it still took k+1 from the same call, so k+1 was on the queue while k
 * waited in quarantine. The inbox handled k+1 once its gap retries ran out and k after the
 * redrive: effects 1, 2, 4, 3 — against README "Guarantees" (never sent out of seq order by
 * the relay). Now a call holds at most one event of an aggregate on every queue kind.
 *
 * The refusal: a warm `sqsSender` (defaults, `maxMessageBytes: 'auto'`) cached the queue's limit,
 * then the queue's `MaximumMessageSize` was lowered to 1 KiB; seq 3 (2 000 bytes of pad) is too
 * large even under the re-read limit, a sender fault. fauxqs refuses that entry alone, as SQS
 * does; moto refuses the whole call (the sender bisects it).
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { memoryStore } from '@steadyfn/idempotency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inbox, outbox, redisOutbox } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { aggregateKey } from '../src/envelope.js';
import { createQueue, filler, lambdaContext, openRedis, parseDelivered, runCtx, sqsClient, sqsRecord, tickEvents, type RedisBackend } from './support.js';
import { receiveAll, sqsServers, type ServerName } from './sqs-servers.js';

let redis: RedisBackend;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  redis = await openRedis('redis');
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await redis?.close();
});

/** A standard queue of `server` taking 1 MiB, a Redis outbox with the sender's defaults, and a writer of Tick events with given pads. */
async function rig(server: ServerName) {
  const sqs = await sqsClient(server);
  cleanups.push(async () => sqs.destroy());
  const q = await createQueue(sqs);
  cleanups.push(q.remove);
  const store = redisOutbox({ client: redis.client, prefix: redis.prefix });
  const box = outbox({ events: tickEvents, store, relay: { sender: sqsSender({ client: sqs, queueUrl: q.url }), lease: redis.lease } });
  const write = handler({ input: z.object({ agg: z.string(), pads: z.array(z.number().int()) }), use: [box] }, async ({ agg, pads }, ctx) => {
    ctx.outbox.call('HINCRBY', `${redis.prefix}state:{${agg}}`, 'n', pads.length);
    pads.forEach((pad, i) => ctx.outbox.add({ type: 'Tick', aggregateId: agg, payload: { n: i, ...(pad > 0 ? { pad: filler(pad) } : {}) } }));
  });
  const lower = (bytes: number) => sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { MaximumMessageSize: String(bytes) } }));
  return { sqs, url: q.url, store, box, write, lower };
}

/** The reviewer's repro: seq 1 warms the sender; the limit drops to 1 KiB; seq 2, 3 (too large), 4 in one commit. */
async function refuseSeq3(r: Awaited<ReturnType<typeof rig>>, agg: string): Promise<void> {
  await r.write.invoke({ agg, pads: [0] });
  await r.lower(1_024);
  await r.write.invoke({ agg, pads: [0, 2_000, 0] });
}

/**
 * An inbox consumer (memory store, `maxGapRetries` 3) fed by the queue's own receives: a message
 * it fails (a seq gap) becomes visible again at once and comes back with a higher receive count;
 * one it handles is deleted. Runs until the queue has been empty twice in a row.
 */
function consumer(sqs: SQSClient, url: string) {
  const applied: number[] = [];
  const fn = handler({ use: [inbox({ store: memoryStore(), consumer: 'd1', maxGapRetries: 3 })], logLevel: 'error' }, async (_input, ctx) => {
    applied.push(ctx.inbox.event.seq);
  });
  const drain = async (): Promise<void> => {
    for (let quiet = 0, round = 0; quiet < 2 && round < 20; round++) {
      const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }))).Messages ?? [];
      quiet = got.length === 0 ? quiet + 1 : 0;
      for (const m of got) {
        const answer = (await fn.aws({ Records: [sqsRecord(m.Body!, { messageId: m.MessageId!, attempt: Number(m.Attributes?.ApproximateReceiveCount ?? '1') })] }, lambdaContext())) as { batchItemFailures: unknown[] };
        if (answer.batchItemFailures.length === 0) await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  };
  return { applied, drain };
}

describe.each(sqsServers().map((s) => s.name))('a standard queue refusing an event for good (%s)', (server) => {
  it('nothing after the refused event of its aggregate reaches the queue: delivered 1, 2; quarantined from 3 with 4 behind it', async () => {
    const r = await rig(server);
    const agg = `d1-${server}`;
    await refuseSeq3(r, agg);
    expect((await receiveAll(r.sqs, r.url, 4, 1_500)).map((m) => parseDelivered(m).seq).sort()).toEqual([1, 2]);
    expect((await r.store.relay.listQuarantined({ limit: 100 })).find((q) => q.where === agg)).toMatchObject({ aggregate: aggregateKey('tick', agg), fromSeq: 3 });
  });

  it('end to end: an inbox consumer before and after the redrive applies 1, 2, 3, 4', async () => {
    const r = await rig(server);
    const agg = `d1e-${server}`;
    await refuseSeq3(r, agg);
    const c = consumer(r.sqs, r.url);
    // Consumed before the redrive: long enough for a seq gap to run out of retries.
    await c.drain();
    expect(c.applied).toEqual([1, 2]);
    const held = (await r.store.relay.listQuarantined({ limit: 100 })).find((q) => q.where === agg);
    expect(held).toMatchObject({ fromSeq: 3 });
    await r.lower(262_144);
    expect(await r.box.redrive(runCtx(), held!)).toMatchObject({ redriven: true });
    await c.drain();
    expect(c.applied).toEqual([1, 2, 3, 4]);
  }, 60_000);
});
