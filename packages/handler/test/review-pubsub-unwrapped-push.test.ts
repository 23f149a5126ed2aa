/**
 * Review finding: a Pub/Sub push subscription with payload unwrapping (`noWrapper`) and
 * `writeMetadata: true` (https://cloud.google.com/pubsub/docs/payload-unwrapping) POSTs the
 * message data itself as the body and the metadata as `x-goog-pubsub-subscription-name`,
 * `x-goog-pubsub-message-id`, `x-goog-pubsub-publish-time`, `x-goog-pubsub-ordering-key`
 * headers. An HTTP function saw it as a plain `http` request: `ctx.deliveryId` undefined, so
 * idempotency keyed on the delivery did not dedupe Pub/Sub's redeliveries, and a message that
 * failed for good under `terminalErrors: 'ack'` was answered 4xx (a nack: redelivered forever).
 * Sent here to an HTTP function on the real Functions Framework test server, through the root
 * entry and `@steadyfn/handler/gcp`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler, httpError, SteadyError, TerminalError, type Context } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

const SUBSCRIPTION = 'projects/my-project/subscriptions/orders-unwrapped';
const MESSAGE_ID = '2070443601311540';

/** What Pub/Sub writes with `writeMetadata: true` (the doc's example, ordering key included). */
const METADATA = {
  'x-goog-pubsub-subscription-name': SUBSCRIPTION,
  'x-goog-pubsub-message-id': MESSAGE_ID,
  'x-goog-pubsub-publish-time': '2021-02-26T19:13:55.749Z',
  'x-goog-pubsub-ordering-key': 'some-key',
  'user-agent': 'CloudPubSub-Google',
};

const entries = { root: handler, gcp: gcpHandler } as const;

describe('Pub/Sub push with payload unwrapping and write metadata, to an HTTP function', () => {
  for (const [entry, make] of Object.entries(entries)) {
    it(`${entry} entry: the same queue trigger as a wrapped push, keyed by the message id on every redelivery`, async () => {
      const seen: Array<{ input: unknown; ctx: Context }> = [];
      const main = make({ gcpPubSubPush: true, logSink: () => undefined }, (input, ctx) => {
        seen.push({ input, ctx });
        return { stored: true };
      });
      const url = await serve('http', main);
      const body = '{"status": "Hello there"}';
      for (let i = 0; i < 2; i++) {
        const res = await request(url).post('/').set(METADATA).set('content-type', 'application/json').send(body);
        // Any of 102, 200, 201, 202, 204 acknowledges the message.
        expect([200, 201, 202, 204]).toContain(res.status);
      }
      expect(seen).toHaveLength(2);
      for (const { input, ctx } of seen) {
        expect(input).toEqual({ status: 'Hello there' });
        expect(ctx.deliveryId).toBe(`${SUBSCRIPTION}#${MESSAGE_ID}`);
        expect(ctx.trigger).toEqual({ kind: 'queue', source: 'pubsub', queue: SUBSCRIPTION, messageId: MESSAGE_ID, groupId: 'some-key', attributes: {}, batchIndex: 0, batchSize: 1 });
        if (ctx.trigger.kind !== 'queue') throw new Error('expected a queue trigger');
        // The message data exactly as delivered, as for a wrapped push's decoded `data`.
        expect(ctx.trigger.rawBody).toEqual(Buffer.from(body, 'utf8'));
      }
      // Each delivery is its own execution.
      expect(seen[0]!.ctx.requestId).not.toBe(seen[1]!.ctx.requestId);
    });
  }

  it('binary data stays bytes, as a wrapped push decodes it (body: auto)', async () => {
    const seen: unknown[] = [];
    const url = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, (input) => void seen.push(input)));
    const bytes = Buffer.from([0xff, 0x00, 0x9c, 0x01]);
    const res = await request(url).post('/').set(METADATA).set('content-type', 'application/octet-stream').send(bytes);
    expect(res.status).toBe(204);
    expect(seen).toEqual([bytes]);
  });

  it('a retryable failure is a nack (500); a TerminalError is a nack under terminalErrors: fail and acknowledged under ack', async () => {
    let thrown: Error = new Error('downstream down');
    const fn = (): never => {
      throw thrown;
    };
    const failing = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, fn));
    const acking = await serve('http', handler({ gcpPubSubPush: true, terminalErrors: 'ack', logSink: () => undefined }, fn));
    const push = (url: string) => request(url).post('/').set(METADATA).set('content-type', 'application/json').send('{"a":1}');

    const retry = await push(acking);
    expect(retry.status).toBe(500);
    expect(retry.text).not.toContain('downstream');

    thrown = new TerminalError('OUT_OF_STOCK', 'No stock');
    const nacked = await push(failing);
    expect(nacked.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(nacked.text)).toMatchObject({ code: 'OUT_OF_STOCK' });
    const acked = await push(acking);
    expect(acked.status).toBe(204);
    expect(acked.text).toBe('');
  });

  it('keeps the trace context: the traceparent header, else the googclient_traceparent attribute written as a header', async () => {
    const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const TS = 'congo=t61rcWkgMzE';
    const seen: Array<[string, string | undefined]> = [];
    const url = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, (_input, ctx) => void seen.push([ctx.traceparent, ctx.tracestate])));
    await request(url).post('/').set(METADATA).set({ traceparent: TP, tracestate: TS }).send('x');
    await request(url).post('/').set(METADATA).set({ googclient_traceparent: TP, googclient_tracestate: TS }).send('x');
    expect(seen).toEqual([
      [TP, TS],
      [TP, TS],
    ]);
  });

  it('without write metadata (no x-goog-pubsub-* headers) the push cannot be told from a plain request: it stays http', async () => {
    const seen: Context[] = [];
    const url = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)));
    await request(url).post('/').set('user-agent', 'CloudPubSub-Google').set('content-type', 'application/json').send('{"a":1}');
    // Only the message id without the subscription name is not write metadata either.
    await request(url).post('/').set('x-goog-pubsub-message-id', MESSAGE_ID).set('content-type', 'application/json').send('{"a":1}');
    expect(seen.map((ctx) => [ctx.trigger.kind, ctx.deliveryId])).toEqual([
      ['http', undefined],
      ['http', undefined],
    ]);
  });

  it('a failure made with a status Pub/Sub takes for an ack (200, 201, 202, 204) is still a nack: 500, its code kept', async () => {
    let status = 200;
    const url = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, () => {
      throw httpError(status, 'NOT_YET', 'Come back later', { retryable: true });
    }));
    const push = () => request(url).post('/').set(METADATA).set('content-type', 'application/json').send('{"a":1}');
    for (status of [200, 201, 202, 204]) {
      const res = await push();
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text)).toMatchObject({ code: 'NOT_YET', status: 500 });
    }
    // A terminal one under terminalErrors: 'fail' (the default) is reported too.
    const terminal = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, () => {
      throw new SteadyError('ALREADY_SETTLED', 'Settled', { status: 200, retryable: false });
    }));
    const res = await request(terminal).post('/').set(METADATA).set('content-type', 'application/json').send('{"a":1}');
    expect(res.status).toBe(500);
    // A plain HTTP request (no Pub/Sub metadata) gets 500 too: an error's status is 400–599, any
    // other becomes 500 when the error is made (review s55: no success or redirect with a problem body).
    const plain = await request(terminal).post('/').set('content-type', 'application/json').send('{"a":1}');
    expect(plain.status).toBe(500);
  });
});
