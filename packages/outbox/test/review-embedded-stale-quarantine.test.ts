/**
 * New-user trial finding (a relay that loses its lease mid-batch, embedded outbox on FerretDB):
 * relay A read events 1–3 of an aggregate and was paused inside its send past its relay lease;
 * relay B took the aggregate over (a newer fencing token), sent 1–3 and marked them. Then A's
 * send came back with a sender fault on event 2. A's marks found nothing left to remove and
 * reported 0 marked — not "lease lost" (-1), as the Redis store and the transaction-mode store
 * with `mongoLeaseStore` do — so A went on to quarantine the aggregate from seq 2 with its stale
 * token. Every later event of the aggregate (4, 5, …) was then held until someone redrove a
 * quarantine of events that were long on the queue, and A's metrics claimed 2 sent. The
 * README's embedded fencing ("no newer fencing token having marked") now holds for the whole
 * settle: a settle whose document carries a newer token than the caller's lease answers -1,
 * so the stale relay marks, counts and quarantines nothing.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, type Sender } from '../src/index.js';
import type { OutboundMessage, SendReport } from '../src/relay/types.js';
import { useMongo } from './support.js';

const mongo = useMongo();

const events = { Tick: { aggregateType: 'order', schema: z.object({ n: z.number() }) } };
const warnings: string[] = [];
const log = { debug() {}, info() {}, warn: (message: string) => void warnings.push(message), error() {} };
const runCtx = () => ({ signal: new AbortController().signal, remainingMs: () => 60_000, log: log as never });
const seqOf = (m: OutboundMessage) => (JSON.parse(m.body) as { seq: number }).seq;
const report = (sent: OutboundMessage[], failed: SendReport['failed'] = []): SendReport => ({ sent: sent.map((m) => ({ id: m.id, messageId: randomUUID() })), failed, batches: 1, fill: { entries: 0, bytes: 0 }, retries: 0 });

/** Relay A's sender: enters, waits until `open()`, then refuses `faultSeq` for good (a sender fault) and accepts the rest. */
function pausedSender(faultSeq: number) {
  let entered!: () => void;
  let open!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const gate = new Promise<void>((r) => (open = r));
  const sender: Sender = {
    fifo: false,
    async send(messages) {
      entered();
      await gate;
      const fault = messages.filter((m) => seqOf(m) === faultSeq);
      return report(
        messages.filter((m) => seqOf(m) !== faultSeq),
        fault.map((m) => ({ id: m.id, code: 'InvalidMessageContents', senderFault: true, retryable: false, judged: true })),
      );
    },
  };
  return { sender, inside, open };
}

describe('embedded outbox: a relay that lost its lease mid-batch', () => {
  it('takes no quarantine and marks nothing once a newer holder has marked', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    // writeWaitMs 100: a relay lease of 200 ms (run out on purpose) must be at least twice it.
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease, writeWaitMs: 100 });
    const a = pausedSender(2);
    const accepted: number[] = [];
    const b: Sender = { fifo: false, send: async (messages) => (messages.forEach((m) => accepted.push(seqOf(m))), report([...messages])) };
    const relayOf = (sender: Sender) => outbox({ events, store, relay: { sender, lease: mongo.lease, leaseMs: 200, flush: false, sweep: { graceMs: 0 } } });
    const boxA = relayOf(a.sender);
    const boxB = relayOf(b);
    const write = handler({ use: [boxA], logSink: () => undefined }, async (input: unknown, ctx) => {
      for (const n of input as number[]) ctx.outbox.add({ type: 'Tick', aggregateId: 'o-1', payload: { n } });
      await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { writes: 1 } }, { upsert: true });
    });
    await write.invoke([1, 2, 3], { deliveryId: randomUUID() });

    const sweepA = boxA.sweep(runCtx());
    await a.inside;
    // A is paused inside its send; its relay lease (200 ms, the lease store's clock) runs out.
    await new Promise((r) => setTimeout(r, 500));
    expect((await boxB.sweep(runCtx())).metrics.sent).toBe(3);
    a.open();
    const staleRun = await sweepA;

    expect(staleRun.metrics).toMatchObject({ sent: 0, quarantined: 0 });
    expect(warnings).not.toContain('outbox aggregate quarantined');
    expect(await store.relay.listQuarantined({ limit: 10 })).toEqual([]);
    // The aggregate keeps flowing: its next event is sent by the next sweep.
    await write.invoke([4], { deliveryId: randomUUID() });
    await boxB.sweep(runCtx());
    expect(accepted).toEqual([1, 2, 3, 4]);
  });
});
