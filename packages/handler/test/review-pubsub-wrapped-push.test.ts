/**
 * Review finding: a Pub/Sub push subscription delivering to an HTTP function POSTs the wrapped
 * push body `{ message: { data, attributes, messageId, message_id, publishTime, publish_time },
 * subscription }` (https://cloud.google.com/pubsub/docs/push, the published sample below). The
 * handler saw plain HTTP with no `ctx.deliveryId`: idempotency and the inbox could not key on
 * the message id, and a redelivery ran again. Every mark of a push is something any caller can
 * send, so it is recognised only when the handler opts in (`gcpPubSubPush: true`); then it is
 * the same queue trigger a Pub/Sub CloudEvent gives. Sent to an HTTP function on the real
 * Functions Framework test server, through the root entry and `@steadyfn/handler/gcp`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler, TerminalError, type Context } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

const SUBSCRIPTION = 'projects/myproject/subscriptions/mysubscription';
const MESSAGE_ID = '2070443601311540';

/** Google's sample push body ("Receive messages", push subscriptions). */
const SAMPLE = {
  message: {
    attributes: { key: 'value' },
    data: 'SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==',
    messageId: MESSAGE_ID,
    message_id: MESSAGE_ID,
    publishTime: '2021-02-26T19:13:55.749Z',
    publish_time: '2021-02-26T19:13:55.749Z',
  },
  subscription: SUBSCRIPTION,
};

const PUSH_HEADERS = { 'content-type': 'application/json', 'user-agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)', from: 'noreply@google.com' };

const push = (url: string, body: unknown) => request(url).post('/').set(PUSH_HEADERS).send(JSON.stringify(body));

describe('Pub/Sub wrapped push to an HTTP function', () => {
  for (const [entry, make] of Object.entries({ root: handler, gcp: gcpHandler })) {
    it(`${entry} entry, gcpPubSubPush: true — the queue trigger a Pub/Sub CloudEvent gives, keyed by the message id on every redelivery`, async () => {
      const seen: Array<{ input: unknown; ctx: Context }> = [];
      const url = await serve('http', make({ gcpPubSubPush: true, logSink: () => undefined }, (input, ctx) => void seen.push({ input, ctx })));
      const first = await push(url, SAMPLE);
      const again = await push(url, { ...SAMPLE, message: { ...SAMPLE.message, orderingKey: 'k1' }, deliveryAttempt: 2 });
      expect([first.status, again.status]).toEqual([204, 204]);
      expect(seen.map(({ input }) => input)).toEqual(['Hello Cloud Pub/Sub! Here is my message!', 'Hello Cloud Pub/Sub! Here is my message!']);
      expect(seen.map(({ ctx }) => ctx.deliveryId)).toEqual([`${SUBSCRIPTION}#${MESSAGE_ID}`, `${SUBSCRIPTION}#${MESSAGE_ID}`]);
      expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'pubsub', queue: SUBSCRIPTION, messageId: MESSAGE_ID, attributes: { key: 'value' }, batchIndex: 0, batchSize: 1 });
      expect(seen[1]!.ctx.trigger).toMatchObject({ kind: 'queue', attempt: 2, groupId: 'k1' });
      expect(seen[0]!.ctx.requestId).not.toBe(seen[1]!.ctx.requestId);
    });
  }

  it('gcpPubSubPush: true — a failure is a nack (500, or the terminal error under fail); a terminal one is acknowledged (204) under ack', async () => {
    const fn = (): never => {
      throw new TerminalError('OUT_OF_STOCK', 'No stock');
    };
    const failing = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, fn));
    const acking = await serve('http', handler({ gcpPubSubPush: true, terminalErrors: 'ack', logSink: () => undefined }, fn));
    const retrying = await serve('http', handler({ gcpPubSubPush: true, terminalErrors: 'ack', logSink: () => undefined }, () => Promise.reject(new Error('down'))));
    expect((await push(failing, SAMPLE)).status).toBeGreaterThanOrEqual(400);
    expect((await push(acking, SAMPLE)).status).toBe(204);
    expect((await push(retrying, SAMPLE)).status).toBe(500);
  });

  it('gcpPubSubPush: true — only a request that is clearly a push: JSON, a subscription resource name, a message id', async () => {
    const seen: Context[] = [];
    const url = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)));
    const { subscription: _s, ...noSubscription } = SAMPLE;
    await push(url, noSubscription);
    await push(url, { ...SAMPLE, subscription: 'mysubscription' });
    await push(url, { ...SAMPLE, message: { data: SAMPLE.message.data } });
    await request(url).post('/').set('content-type', 'text/plain').send(JSON.stringify(SAMPLE));
    await request(url).put('/').set(PUSH_HEADERS).send(JSON.stringify(SAMPLE));
    expect(seen.map((ctx) => [ctx.trigger.kind, ctx.deliveryId])).toEqual(Array.from({ length: 5 }, () => ['http', undefined]));
  });

  it('without gcpPubSubPush (the default) a push — wrapped or unwrapped with metadata — stays plain HTTP, and a warn line says how to opt in, once', async () => {
    const seen: Context[] = [];
    const lines: string[] = [];
    const url = await serve('http', handler({ logLevel: 'warn', logSink: (line) => void lines.push(line) }, (_input, ctx) => void seen.push(ctx)));
    await push(url, SAMPLE);
    await push(url, SAMPLE);
    await request(url).post('/').set({ 'x-goog-pubsub-message-id': MESSAGE_ID, 'x-goog-pubsub-subscription-name': SUBSCRIPTION }).send('x');
    expect(seen.map((ctx) => [ctx.trigger.kind, ctx.deliveryId])).toEqual([
      ['http', undefined],
      ['http', undefined],
      ['http', undefined],
    ]);
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.level === 'warn' && String(e.msg ?? e.message).includes('Pub/Sub push'));
    expect(warned, lines.join("\n")).toHaveLength(1);
    expect(JSON.stringify(warned[0])).toContain('gcpPubSubPush');
    expect(JSON.stringify(warned[0])).not.toContain(MESSAGE_ID);
  });

  it('refuses a gcpPubSubPush that is not a boolean, naming it', () => {
    expect(() => handler({ gcpPubSubPush: 'yes' as unknown as boolean }, () => undefined)).toThrow(/"gcpPubSubPush" must be one of true, false/);
  });
});
