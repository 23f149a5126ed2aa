/**
 * GoogleCloudPlatform/functions-framework-nodejs#322 ("Errors in the function should result in
 * non-200 response code")
 * https://github.com/GoogleCloudPlatform/functions-framework-nodejs/issues/322
 *
 * A function behind Pub/Sub push (Cloud Run with the Functions Framework) that threw was
 * answered `200` with an `X-Google-Status` header Pub/Sub ignores, so the message was
 * acknowledged and lost.
 *
 * steadyfn's CloudEvent entry throws every failure to the framework, which must answer non-2xx.
 * Replayed on the Functions Framework's own test server (`getTestServer`): a Pub/Sub
 * `messagePublished` CloudEvent in binary mode, as Eventarc posts it, to a function that fails
 * with an unexpected error, a retryable error and a terminal one; each answer is non-2xx (so
 * Pub/Sub redelivers, then dead-letters), and a function that succeeds is answered 2xx.
 */
import { randomUUID } from 'node:crypto';
import { handler, RetryableError, TerminalError } from '../../packages/handler/src/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { closeServers, serve } from '../../packages/handler/test/support/gcp-server.js';

afterAll(closeServers);

async function postPubSub(url: string, payload: unknown): Promise<number> {
  const id = randomUUID();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': '//pubsub.googleapis.com/projects/demo/topics/orders',
      'ce-time': '2025-03-14T10:02:11.512Z',
    },
    body: JSON.stringify({
      message: { data: Buffer.from(JSON.stringify(payload)).toString('base64'), messageId: id, publishTime: '2025-03-14T10:02:11.512Z', attributes: {} },
      subscription: 'projects/demo/subscriptions/orders-push',
    }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('functions-framework-nodejs#322: a failed Pub/Sub CloudEvent is answered non-2xx', () => {
  it.each([
    ['an unexpected error', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    }],
    ['a retryable error', () => {
      throw new RetryableError('DOWNSTREAM_BUSY', 'try later');
    }],
    ['a terminal error (terminalErrors: fail, the default)', () => {
      throw new TerminalError('ORDER_UNKNOWN', 'no such order');
    }],
  ])('%s: the framework answers ≥ 400, so Pub/Sub does not acknowledge', async (_label, fail) => {
    const url = await serve('cloudEvent', handler({ logSink: () => undefined }, fail));
    const status = await postPubSub(url, { orderId: 'o-1' });
    expect(status).toBeGreaterThanOrEqual(400);
  });

  it('a function that succeeds is answered 2xx and got the decoded message', async () => {
    const seen: unknown[] = [];
    const url = await serve('cloudEvent', handler({ logSink: () => undefined }, (input) => {
      seen.push(input);
    }));
    const status = await postPubSub(url, { orderId: 'o-2' });
    expect(status).toBeGreaterThanOrEqual(200);
    expect(status).toBeLessThan(300);
    expect(seen).toEqual([{ orderId: 'o-2' }]);
  });
});
