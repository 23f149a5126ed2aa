/**
 * Review finding (obx, quarantine order): in one send round, event 2 of an aggregate failed
 * retryably (an SQS per-entry server fault) while event 3 failed with a sender fault. The relay
 * quarantined the aggregate from seq 3 — and since a quarantined aggregate sends nothing until a
 * redrive, the healthy event 2, which only needed a retry, was held with it: no sweep sent it.
 * Right: a quarantine is taken on the aggregate's first refused event only when that one is the
 * sender fault; a retryable refusal before it is retried first (in order), and the poison event
 * is quarantined once everything before it is on the queue. Redis outbox, moto behind the fault
 * proxy (the per-entry answers no emulator gives on demand), a standard queue.
 */
import { handler } from '@steadyfn/handler';
import { aggregateKey, outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { partitionKeys } from '../src/stores/redis-keys.js';
import { startFaultProxy } from './fault-proxy.js';
import { sqsClient as endpointClient, sqsServers } from './sqs-servers.js';
import { createQueue, drainQueue, useRedisAndSqs } from './support.js';

const servers = useRedisAndSqs();
const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number().int() }) } };
const quietLog = { debug() {}, info() {}, warn() {}, error() {} };
const runCtx = () => ({ signal: new AbortController().signal, remainingMs: () => 60_000, log: quietLog as never });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('a retryable refusal before a sender fault of the same aggregate', () => {
  it('retries the earlier event, quarantines from the poison one, and redrive sends the rest in order', async () => {
    const { redis, sqs } = servers;
    const q = await createQueue(sqs);
    cleanups.push(q.remove);
    // Seq 2 is refused once with a server fault; seq 3 with a sender fault while `poison` holds.
    let poison = true;
    let secondRefused = false;
    const proxy = await startFaultProxy(sqsServers().find((s) => s.name === 'moto')!.endpoint, (_call, entries) => {
      const fail: Array<{ id: string; code: string; senderFault: boolean }> = [];
      for (const e of entries) {
        const seq = (JSON.parse(e.MessageBody) as { seq: number }).seq;
        if (seq === 2 && !secondRefused) {
          secondRefused = true;
          fail.push({ id: e.Id, code: 'InternalError', senderFault: false });
        }
        if (seq === 3 && poison) fail.push({ id: e.Id, code: 'InvalidMessageContents', senderFault: true });
      }
      return fail.length > 0 ? { failEach: fail } : undefined;
    });
    cleanups.push(proxy.close);
    const client = endpointClient(proxy.endpoint);
    cleanups.push(async () => client.destroy());
    const store = redisOutbox({ client: redis.client, prefix: redis.prefix });
    const box = outbox({ events, store, relay: { sender: sqsSender({ client, queueUrl: q.url, retry: { retries: 0 } }), lease: redis.lease, sweep: { graceMs: 0 } } });
    const write = handler({ use: [box], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('SET', `${redis.prefix}state:{q-1}`, 'v1');
      for (const n of [1, 2, 3]) ctx.outbox.add({ type: 'Tick', aggregateId: 'q-1', payload: { n } });
    });
    const seqs = async () => (await drainQueue(sqs, q.url)).map((m) => (JSON.parse(m.Body!) as { seq: number }).seq);

    await write.invoke({});
    // The flush: 1 accepted, 2 refused retryably, 3 refused for good — in one SendMessageBatch.
    expect(secondRefused).toBe(true);
    expect(await seqs()).toEqual([1]);

    // The next sweep retries 2 (it only needed a retry); 3 is refused again and held from its seq.
    await box.sweep(runCtx());
    expect(await seqs()).toEqual([2]);
    const held = (await store.relay.listQuarantined({ limit: 10 })).filter((e) => e.where === 'q-1');
    expect(held).toEqual([expect.objectContaining({ aggregate: aggregateKey('tick', 'q-1'), fromSeq: 3, reason: 'sender fault: InvalidMessageContents' })]);

    // Repaired, the quarantine is redriven: 3 goes out last.
    poison = false;
    expect(await box.redrive(runCtx(), held[0]!)).toMatchObject({ redriven: true });
    expect(await seqs()).toEqual([3]);
    expect(await store.relay.listQuarantined({ limit: 10 })).toEqual([]);
  });

  it('a poison event (attempt rule) behind one refused retryably: the earlier one is retried, then the poison one quarantined', async () => {
    // The same order by the other road to a quarantine: event 2 is poison by its attempts
    // (counted before the send), event 1 ahead of it is refused once with a server fault. Taken
    // at once, the quarantine from 2 held 1 as well; it is now taken once 1 is on the queue.
    const { redis, sqs } = servers;
    const q = await createQueue(sqs);
    cleanups.push(q.remove);
    let firstRefused = false;
    const proxy = await startFaultProxy(sqsServers().find((s) => s.name === 'moto')!.endpoint, (_call, entries) => {
      const first = entries.find((e) => (JSON.parse(e.MessageBody) as { seq: number }).seq === 1);
      if (!first || firstRefused) return undefined;
      firstRefused = true;
      return { failEach: [{ id: first.Id, code: 'InternalError', senderFault: false }] };
    });
    cleanups.push(proxy.close);
    const client = endpointClient(proxy.endpoint);
    cleanups.push(async () => client.destroy());
    const prefix = `${redis.prefix}p2:`;
    const store = redisOutbox({ client: redis.client, prefix });
    const box = outbox({ events, store, relay: { sender: sqsSender({ client, queueUrl: q.url, retry: { retries: 0 } }), lease: redis.lease, flush: false, poison: { maxAttempts: 2, maxUnfinishedAttempts: 3 }, sweep: { graceMs: 0 } } });
    const write = handler({ use: [box], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('SET', `${prefix}state:{q-2}`, 'v1');
      for (const n of [1, 2]) ctx.outbox.add({ type: 'Tick', aggregateId: 'q-2', payload: { n } });
    });
    const seqs = async () => (await drainQueue(sqs, q.url)).map((m) => (JSON.parse(m.Body!) as { seq: number }).seq);
    await write.invoke({});
    // Event 2 has two judged refusals behind it already: its next attempt makes it poison (maxAttempts 2).
    const k = partitionKeys(prefix, 'q-2');
    const entries = (await redis.client.xrange(k.events, '-', '+')) as Array<[string, string[]]>;
    const second = entries.find(([, fields]) => fields[fields.indexOf('s') + 1] === '2')![0];
    await redis.client.hset(k.attempts, `${second}:s`, 2, `${second}:f`, 2);

    await box.sweep(runCtx());
    expect(firstRefused).toBe(true);
    expect(await seqs()).toEqual([]);
    // The next sweep sends 1 (it only needed a retry); then 2 is held, from its seq.
    await box.sweep(runCtx());
    expect(await seqs()).toEqual([1]);
    const held = (await store.relay.listQuarantined({ limit: 10 })).filter((e) => e.where === 'q-2');
    expect(held).toEqual([expect.objectContaining({ aggregate: aggregateKey('tick', 'q-2'), fromSeq: 2, reason: expect.stringMatching(/^attempts: /) })]);
    expect(await box.redrive(runCtx(), held[0]!)).toMatchObject({ redriven: true });
    expect(await seqs()).toEqual([2]);
  });
});
