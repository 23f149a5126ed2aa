/**
 * kyma-project/kyma#16154 ("Function CE SDK should support events with json payload according
 * to the CE spec")
 * https://github.com/kyma-project/kyma/issues/16154
 *
 * Kyma's Node.js function runtime read CloudEvents only in binary content mode (attributes in
 * `ce-*` headers). An event sent in structured content mode — `Content-Type:
 * application/cloudevents+json`, attributes and `data` in the JSON body, which every CloudEvents
 * HTTP implementation must accept — reached the function with no id, type or source, and its
 * whole envelope taken for the payload.
 *
 * steadyfn's Cloud Functions entry reads the CloudEvent the Functions Framework parsed, whichever
 * mode carried it. Replayed on the Framework's own test server: one event (a custom type with a
 * JSON `data`) posted in binary mode and in structured mode; the function gets the same input,
 * the same trigger (id, type, source) and the same delivery id both times, so an idempotency key
 * or a log line does not depend on how the sender encoded the event.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Context } from '../../packages/handler/src/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { closeServers, serve } from '../../packages/handler/test/support/gcp-server.js';

afterAll(closeServers);

const EVENT = { type: 'com.example.order.created', source: '//orders.example.com/shops/s-1', time: '2025-03-14T10:02:11.512Z', subject: 'orders/o-1' };
const DATA = { orderId: 'o-1', total: 42.5, lines: [{ sku: 'A-1', qty: 2 }] };

async function post(url: string, id: string, mode: 'binary' | 'structured'): Promise<number> {
  const init: RequestInit =
    mode === 'binary'
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': id, 'ce-type': EVENT.type, 'ce-source': EVENT.source, 'ce-time': EVENT.time, 'ce-subject': EVENT.subject },
          body: JSON.stringify(DATA),
        }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
          body: JSON.stringify({ specversion: '1.0', id, ...EVENT, datacontenttype: 'application/json', data: DATA }),
        };
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

describe('kyma#16154: a structured-mode CloudEvent reaches the function as the binary-mode one does', () => {
  it('same input, trigger and delivery id in binary and structured content mode', async () => {
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const url = await serve('cloudEvent', handler({ logSink: () => undefined }, (input, ctx) => {
      seen.push({ input, ctx });
    }));
    const id = randomUUID();
    expect(await post(url, id, 'binary')).toBeLessThan(300);
    expect(await post(url, id, 'structured')).toBeLessThan(300);
    expect(seen).toHaveLength(2);
    const [binary, structured] = seen;
    expect(binary!.input).toEqual(DATA);
    expect(structured!.input).toEqual(binary!.input);
    expect(structured!.ctx.trigger).toEqual(binary!.ctx.trigger);
    expect(binary!.ctx.trigger).toMatchObject({ type: EVENT.type, eventSource: EVENT.source, id });
    expect(binary!.ctx.deliveryId).toBe(`${EVENT.source}#${id}`);
    expect(structured!.ctx.deliveryId).toBe(binary!.ctx.deliveryId);
  });
});
