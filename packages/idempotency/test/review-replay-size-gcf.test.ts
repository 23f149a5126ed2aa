/**
 * Cloud Functions (2nd gen) answers over HTTP through the Functions Framework's own test server
 * (`getTestServer`), with an idempotency key in Redis: the 32,000,000-byte body limit counts the
 * body only ("Max uncompressed HTTP response size", https://cloud.google.com/functions/quotas),
 * so the replay's `Idempotency-Replayed` header cannot push a response over it — a body of exactly
 * the limit is sent and replayed, byte for byte; one byte more is refused the first time by the
 * handler's own check (RESPONSE_TOO_LARGE), and that error is stored: the function returned (its
 * effects done), so the retry replays the refusal rather than running it again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, httpResult } from '@steadyfn/handler';
import { closeServers, serve } from '../../handler/test/support/gcp-server.js';
import { idempotency, REPLAYED_HEADER } from '../src/index.js';
import { openBackend, type Backend } from './support.js';

const LIMIT = 32_000_000;

let backend: Backend;
beforeAll(async () => {
  backend = await openBackend('redis');
});
afterAll(async () => {
  await closeServers();
  await backend?.close();
});

async function call(url: string, key: string) {
  const res = await fetch(`${url}/report`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: '{"report":"r-1"}' });
  return { status: res.status, replayed: res.headers.get(REPLAYED_HEADER), body: Buffer.from(await res.arrayBuffer()) };
}

async function app(length: number) {
  const fn = { runs: 0 };
  const main = handler({ name: `gcf-size-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, () => {
    fn.runs++;
    return httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(length) });
  });
  return { url: await serve('http', main), fn };
}

describe('Cloud Functions HTTP, idempotency, a response at the 32 MB body limit', () => {
  it('exactly the limit: sent, then replayed with the header and the same bytes, the function run once', async () => {
    const { url, fn } = await app(LIMIT);
    const key = randomUUID();
    const first = await call(url, key);
    expect(first.status).toBe(200);
    expect(first.replayed).toBeNull();
    expect(first.body.length).toBe(LIMIT);
    const again = await call(url, key);
    expect(again.status).toBe(200);
    expect(again.replayed).toBe('true');
    expect(again.body.equals(first.body)).toBe(true);
    expect(fn.runs).toBe(1);
  }, 60_000);

  it('one byte more: RESPONSE_TOO_LARGE the first time, stored as that error (the retry replays it, not running the function again)', async () => {
    const { url, fn } = await app(LIMIT + 1);
    const key = randomUUID();
    const first = await call(url, key);
    expect(first.status).toBe(500);
    expect(JSON.parse(first.body.toString('utf8'))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    const retry = await call(url, key);
    expect(retry.status).toBe(500);
    expect(JSON.parse(retry.body.toString('utf8'))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(retry.replayed).toBe('true');
    expect(fn.runs).toBe(1);
  }, 60_000);
});
