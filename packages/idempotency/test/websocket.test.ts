/**
 * API Gateway WebSocket routes. A message carries no headers and no identity API Gateway would
 * keep across a retry — it never redelivers one — so under `'auto'` the key fell back to the
 * hash of the message text: a second `{"action":"sendMessage","text":"hello"}`, from the same
 * or any other connection, was answered with the first one's replay and never reached the
 * function, and a second client's `$connect` (same headers) was never recorded. Under
 * `'header'` every message failed with IDEMPOTENCY_KEY_MISSING. Such routes now run without a
 * record. Through the real Lambda adapter with the published WebSocket events, on each store.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, counting, lambdaContext, silentSink, useBackend } from './support.js';

const published = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/aws/published/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

/** The event as another connection (and another request) would send it. */
function from(event: Record<string, any>, connectionId: string): Record<string, unknown> {
  const id = randomUUID();
  return { ...event, requestContext: { ...event.requestContext, connectionId, requestId: id, extendedRequestId: id, messageId: id } };
}

describe.each(BACKENDS)('WebSocket routes on %s', (name) => {
  const backend = useBackend(name);

  function chat(key: IdempotencyOptions['key']) {
    const store = counting(backend.store);
    const seen: string[] = [];
    const main = handler({ name: `ws-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store, ttlMs: 86_400_000, localCache: false, ...(key ? { key } : {}) })] }, (_input, ctx) => {
      if (ctx.trigger.kind === 'http') seen.push(`${ctx.trigger.websocket?.eventType}:${ctx.trigger.websocket?.connectionId}`);
      return { ok: true };
    });
    const send = async (event: Record<string, unknown>) => (await main.aws(event, lambdaContext())) as { statusCode: number; headers: Record<string, string> };
    return { store, seen, send };
  }

  it.each(['auto', 'header'] as const)("key: '%s' — the same text from two connections, and again from the first, reaches the function each time", async (key) => {
    const { store, seen, send } = chat(key);
    const message = published('websocket-message.json');
    const answers = [await send(from(message, 'conn-A')), await send(from(message, 'conn-B')), await send(from(message, 'conn-A'))];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.headers['Idempotency-Replayed'])).toEqual([undefined, undefined, undefined]);
    expect(seen).toEqual(['MESSAGE:conn-A', 'MESSAGE:conn-B', 'MESSAGE:conn-A']);
    expect(store.total()).toBe(0);
  });

  it('two clients connecting with the same headers are two connections', async () => {
    const { seen, send } = chat('auto');
    const connect = published('websocket-connect.json');
    await send(from(connect, 'conn-A'));
    await send(from(connect, 'conn-B'));
    expect(seen).toEqual(['CONNECT:conn-A', 'CONNECT:conn-B']);
  });
});
