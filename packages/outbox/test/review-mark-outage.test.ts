/**
 * Review finding (a store outage in the MARK step): SQS accepted a round, then marking it sent
 * failed because the outbox store was unreachable. The attempt stayed "begun, never finished" —
 * counted like a relay that crashed mid-send — so three runs whose marks met a flapping store
 * quarantined a healthy event that SQS had taken every time (`maxUnfinishedAttempts`, 3), and it
 * waited for a manual redrive. Attempts must count delivery failures, not store outages after a
 * successful send. Redis outbox (store and relay lease on one Redis, reached through a TCP proxy
 * that is closed right after SQS accepted the send and opened again after the run), FIFO queues
 * on moto and fauxqs; each run starts after the previous run's lease ran out, as a scheduled
 * sweep does.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { redisLeaseStore } from '@steadyfn/lease';
import { outbox, redisOutbox, type Sender } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startProxy, type FaultProxy } from '../../connections/test/support/proxy.js';
import { sqsServers } from './sqs-servers.js';
import { createQueue, drainQueue, runId, sqsClient } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const LEASE_MS = 300;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const redisPort = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379').port);

describe.each(sqsServers({ elasticmq: true }).map((s) => s.name))('a store outage after SQS accepted the round (%s FIFO)', (server) => {
  it('counts no attempt toward quarantine: after three such runs the event is marked, not quarantined', async () => {
    const sqs: SQSClient = await sqsClient(server);
    const q = await createQueue(sqs, { fifo: true });
    let proxy: FaultProxy = await startProxy(redisPort);
    const port = proxy.port;
    // Fails at once while the proxy is closed; reconnects when it is back.
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 20 });
    client.on('error', () => undefined);
    const prefix = `obx-${runId()}:`;
    cleanups.push(q.remove, async () => sqs.destroy(), async () => client.disconnect(), async () => proxy.close());
    const store = redisOutbox({ client, prefix });
    const lease = redisLeaseStore({ client, prefix: `${prefix}lease:` });

    // The real sender; the store goes away once SQS has accepted (during the outage runs).
    const real = sqsSender({ client: sqs, queueUrl: q.url, retry: { retries: 0 } });
    let outage = false;
    let down = false;
    const sender: Sender = {
      fifo: real.fifo,
      maxMessageBytes: (o) => real.maxMessageBytes(o),
      async send(messages, options) {
        const report = await real.send(messages, options);
        if (outage && report.sent.length > 0) {
          down = true;
          await proxy.close();
        }
        return report;
      },
    };
    const ready = async () => {
      for (let i = 0; i < 200 && client.status !== 'ready'; i++) await sleep(20);
      expect(client.status).toBe('ready');
    };
    const write = handler({ use: [outbox({ events, store })], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${prefix}order:{o-1}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
    });
    await ready();
    await write.invoke({});
    const box = outbox({ events, store, relay: { sender, lease, leaseMs: LEASE_MS, sweep: { graceMs: 0 } } });
    const ctx = () => ({ signal: new AbortController().signal, remainingMs: () => 30_000, log: { debug() {}, info() {}, warn() {}, error() {} } as never });

    let quarantined = 0;
    for (let run = 0; run < 3; run++) {
      await ready();
      outage = true;
      quarantined += (await box.sweep(ctx())).metrics.quarantined;
      outage = false;
      if (down) proxy = await startProxy(redisPort, port);
      down = false;
      // The next scheduled run comes after this run's lease (held: its release failed too) ran out.
      await sleep(LEASE_MS * 2);
    }
    await ready();
    const last = await box.sweep(ctx());
    quarantined += last.metrics.quarantined;

    expect(quarantined).toBe(0);
    expect(await store.relay.listQuarantined({ limit: 10 })).toEqual([]);
    // Nothing pending: the event was marked once the store was back.
    expect((await box.sweep(ctx())).found).toBe(0);
    const got = await drainQueue(sqs, q.url);
    expect(new Set(got.map((m) => (JSON.parse(m.Body!) as { aggregateId: string }).aggregateId))).toEqual(new Set(['o-1']));
    for (const k of await client.keys(`${prefix}*`)) await client.del(k);
  }, 60_000);
});
