/**
 * Review finding: the flush after the commit is best effort, but a queue that accepts the
 * connection and never answers held it until `ctx.signal` aborted — the moment the handler
 * answers `DEADLINE_EXCEEDED`. The invocation whose state and events had committed then
 * failed (a 504 to an HTTP caller, a redelivery on a queue; without a request key a retry
 * writes again). The relay now stops its calls once only `relay.reserveMs` remain, so the
 * function's answer leaves in time; the events stay pending, their leases released, and the
 * next sweep sends them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from './support.js';

let backend: RedisBackend;
let sqs: SQSClient;
let queue: { url: string; remove(): Promise<void> };
let stall: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  backend = await openRedis('redis');
  sqs = await sqsClient('moto');
  queue = await createQueue(sqs);
  // Accepts every connection and never answers: a queue endpoint behind a partition.
  stall = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => stall.close(resolve));
  await queue.remove();
  sqs.destroy();
  await backend.close();
});

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ cents: z.number() }) } };

describe('a flush against a queue that never answers', () => {
  it('stops reserveMs before the deadline: the committed invocation succeeds, the sweep sends the event', async () => {
    const { port } = stall.address() as AddressInfo;
    const stalled = new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const store = redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` });
    const orders = outbox({ events, store, relay: { sender: sqsSender({ client: stalled, queueUrl: queue.url, maxMessageBytes: 262_144 }), lease: backend.lease, reserveMs: 3_000 } });
    const key = `${backend.prefix}order:{o-1}`;
    const main = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('HSET', key, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: { cents: 5 } });
      return { paid: true };
    });

    // The flush stops reserveMs (3 s) before the deadline, 2.5 s before the handler's own 500 ms
    // margin: room for a loaded machine's late timers (with 1 s and 4 s there was 0.5 s).
    // What happened, in order: the send reached the endpoint that never answers, the invocation
    // answered, and a timer set for the handler's margin (500 ms before the deadline, when it
    // would answer DEADLINE_EXCEEDED instead) fired — the relay stopped before it, on its reserve.
    const order: string[] = [];
    const onConnection = () => order.includes('send stalled') || order.push('send stalled');
    stall.on('connection', onConnection);
    const deadline = Date.now() + 6_000;
    const margin = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push('handler margin')), deadline - 500 - Date.now()));
    const answer = await main({ orderId: 'o-1' }, { awsRequestId: 'r-1', functionName: 'pay', getRemainingTimeInMillis: () => deadline - Date.now() });
    order.push('answered');
    expect(answer).toEqual({ paid: true });
    await margin;
    stall.off('connection', onConnection);
    expect(order).toEqual(['send stalled', 'answered', 'handler margin']);
    expect(await backend.client.hget(key, 'status')).toBe('paid');
    stalled.destroy();

    // The event is still pending and its lease was released: a sweep right away sends it.
    const sweeper = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: backend.lease, sweep: { graceMs: 0 } } });
    const swept = await sweeper.sweep({ signal: new AbortController().signal, remainingMs: () => 30_000, log: console as never });
    expect(swept.metrics.sent).toBe(1);
    const received = await drainQueue(sqs, queue.url);
    expect(received.map((m) => (JSON.parse(m.Body!) as { aggregateId: string }).aggregateId)).toEqual(['o-1']);
  });
});
