/**
 * Fuzz: Pub/Sub pushes with payload unwrapping and write metadata
 * (https://cloud.google.com/pubsub/docs/payload-unwrapping), to an HTTP function on the real
 * Functions Framework, with any header values, data bytes and outcome of the function. The
 * message id and subscription are taken byte-exact, the data reaches the function as sent,
 * and the answer acknowledges (2xx) exactly what the CloudEvent path acknowledges.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler, TerminalError, type Context } from '../index.js';
import { scopedDeliveryId } from '../events/item.js';
import { closeServers, serve } from '../../test/support/gcp-server.js';

afterAll(closeServers);

/** A header value Node sends and reads back unchanged: visible ASCII, inner spaces, no edge whitespace. */
const headerValue = fc.stringMatching(/^[!-~](?:[ -~]{0,40}[!-~])?$/);

type Outcome = 'return' | 'retryable' | 'terminal';

describe('Pub/Sub unwrapped push (fuzz, on the Functions Framework)', () => {
  it('any message id, subscription, ordering key, data and outcome: the id is the delivery, the data is the input, 2xx only when acknowledged', async () => {
    let next: Outcome = 'return';
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const fn = (input: unknown, ctx: Context): unknown => {
      seen.push({ input, ctx });
      if (next === 'retryable') throw new Error('flaky');
      if (next === 'terminal') throw new TerminalError('REJECTED', 'Rejected');
      return { ok: true };
    };
    const urls = {
      fail: await serve('http', handler({ gcpPubSubPush: true, body: 'bytes', logSink: () => undefined }, fn)),
      ack: await serve('http', handler({ gcpPubSubPush: true, body: 'bytes', terminalErrors: 'ack', logSink: () => undefined }, fn)),
    };
    await fc.assert(
      fc.asyncProperty(
        headerValue,
        headerValue,
        fc.option(headerValue, { nil: undefined }),
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.constantFrom('application/octet-stream', 'text/plain', undefined),
        fc.constantFrom<Outcome>('return', 'retryable', 'terminal'),
        fc.constantFrom<'fail' | 'ack'>('fail', 'ack'),
        async (messageId, subscription, orderingKey, bytes, type, outcome, terminalErrors) => {
          seen.length = 0;
          next = outcome;
          let req = request(urls[terminalErrors]).post('/').set('x-goog-pubsub-message-id', messageId).set('x-goog-pubsub-subscription-name', subscription);
          if (orderingKey !== undefined) req = req.set('x-goog-pubsub-ordering-key', orderingKey);
          if (type !== undefined) req = req.set('content-type', type);
          const res = await req.send(Buffer.from(bytes));
          const acked = outcome === 'return' || (outcome === 'terminal' && terminalErrors === 'ack');
          expect(res.status).toBe(acked ? 204 : outcome === 'retryable' ? 500 : 422);
          expect(res.headers['x-google-status']).toBeUndefined();
          expect(seen).toHaveLength(1);
          const { input, ctx } = seen[0]!;
          // Scoped by the subscription (a push names no topic).
          expect(ctx.deliveryId).toBe(scopedDeliveryId(subscription, messageId));
          expect(ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', queue: subscription, messageId });
          if (ctx.trigger.kind !== 'queue') throw new Error('expected a queue trigger');
          expect(ctx.trigger.groupId).toBe(orderingKey);
          expect([...(input as Buffer)]).toEqual([...bytes]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a repeated or empty metadata header is not write metadata: the request stays http', async () => {
    const seen: Context[] = [];
    const url = await serve('http', handler({ gcpPubSubPush: true, logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)));
    await fc.assert(
      fc.asyncProperty(headerValue, headerValue, fc.constantFrom('repeat-id', 'repeat-subscription', 'empty-id', 'empty-subscription'), async (id, subscription, how) => {
        seen.length = 0;
        const ids = how === 'repeat-id' ? [id, id] : how === 'empty-id' ? '' : id;
        const subscriptions = how === 'repeat-subscription' ? [subscription, subscription] : how === 'empty-subscription' ? '' : subscription;
        // A list sends one header line per value.
        const res = await request(url).post('/').set({ 'x-goog-pubsub-message-id': ids, 'x-goog-pubsub-subscription-name': subscriptions }).set('content-type', 'text/plain').send('x');
        expect(res.status).toBe(204);
        expect(seen.map((ctx) => [ctx.trigger.kind, ctx.deliveryId])).toEqual([['http', undefined]]);
        if (seen[0]!.trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
        const lines = seen[0]!.trigger.request.multiHeaders ?? {};
        expect([lines['x-goog-pubsub-message-id'], lines['x-goog-pubsub-subscription-name']]).toEqual([Array.isArray(ids) ? ids : [ids], Array.isArray(subscriptions) ? subscriptions : [subscriptions]]);
      }),
      { numRuns: 40 },
    );
  });
});
