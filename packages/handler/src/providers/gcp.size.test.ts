/**
 * Cloud Run functions' HTTP response size, through the Functions Framework's own test server
 * (`getTestServer`): "Max uncompressed HTTP response size … 32MB for non-streaming responses"
 * (https://cloud.google.com/functions/quotas, 2nd gen), read as 32,000,000 bytes of body. A
 * larger response is answered `500 RESPONSE_TOO_LARGE` by the handler — plugins see it in
 * `onError`, never in `after` — instead of being written and then refused by the platform.
 * The framework itself sends any size (the control below), so the check is ours.
 *
 * Cloud Functions 1st gen takes only "10MB" ("Max uncompressed HTTP response size",
 * https://cloud.google.com/functions/quotas-1st-gen), and a function cannot tell its generation:
 * the `gcpResponseLimitBytes` option sets the limit, 10,000,000 bytes on 1st gen (decimal, like 32 MB).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeServers, serve } from '../../test/support/gcp-server.js';
import { handler, httpResult, type Plugin } from '../index.js';
import { GCF_RESPONSE_LIMIT_BYTES } from '../internal/limits.js';

const LIMIT = 32_000_000;

afterAll(async () => {
  await closeServers();
});

/** A plugin that records which of its hooks saw the outcome. */
function watcher(seen: string[]): Plugin {
  return {
    name: 'watcher',
    after: () => void seen.push('after'),
    onError: (_ctx, error) => void seen.push(`onError ${error.code}`),
  };
}

async function call(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${url}/report`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe('Cloud Functions HTTP response size (Functions Framework test server)', () => {
  it('the limit is the documented 32 MB of the 2nd generation, read as decimal bytes', () => {
    expect(GCF_RESPONSE_LIMIT_BYTES).toBe(LIMIT);
  });

  it('(control) the framework alone sends a body over the limit: nothing below it refuses one', async () => {
    const url = await serve('http', (_req: unknown, res: { send(b: Buffer): void }) => res.send(Buffer.alloc(LIMIT + 1, 0x61)));
    const res = await call(url);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(LIMIT + 1);
  });

  it('sends a text body of exactly the limit, and refuses one byte more as RESPONSE_TOO_LARGE with size and limit logged, never the body', async () => {
    const seen: string[] = [];
    const lines: string[] = [];
    const at = await serve('http', handler({ logSink: () => undefined, use: [watcher(seen)] }, () => httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(LIMIT) })));
    const ok = await call(at);
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBe(LIMIT);
    expect(seen).toEqual(['after']);

    seen.length = 0;
    const over = await serve('http', handler({ logSink: (l) => void lines.push(l), use: [watcher(seen)] }, () => httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(LIMIT + 1) })));
    const refused = await call(over);
    expect(refused.status).toBe(500);
    expect(JSON.parse(refused.body.toString('utf8'))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(seen).toEqual(['onError RESPONSE_TOO_LARGE']);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
    expect(failed).toMatchObject({ level: 'error', provider: 'gcp', code: 'RESPONSE_TOO_LARGE', size: LIMIT + 1, limit: LIMIT });
    expect(lines.join('\n')).not.toContain('xxxxxxxx');
  });

  it('counts UTF-8 bytes, not characters: 10,666,667 × "€" (3 bytes each) is 32,000,001 bytes and refused; one fewer is sent', async () => {
    const over = await serve('http', handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '€'.repeat(10_666_667) })));
    expect((await call(over)).status).toBe(500);
    const under = await serve('http', handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '€'.repeat(10_666_666) })));
    const ok = await call(under);
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBe(31_999_998);
  });

  it('counts a binary body by its bytes (sent decoded), not its base64: the limit exactly is sent, one byte more refused', async () => {
    const at = await serve('http', handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(LIMIT, 7) })));
    const ok = await call(at);
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBe(LIMIT);
    expect(ok.body.every((b) => b === 7)).toBe(true);
    const over = await serve('http', handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(LIMIT + 1, 7) })));
    const refused = await call(over);
    expect(refused.status).toBe(500);
    expect(JSON.parse(refused.body.toString('utf8'))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });
});

describe('gcpResponseLimitBytes: Cloud Functions 1st gen (10MB), through the Functions Framework test server', () => {
  const FIRST_GEN = 10_000_000;
  const text = (bytes: number) => () => httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(bytes) });

  it('sends a body of exactly the limit set, and refuses one byte more as RESPONSE_TOO_LARGE with that limit logged', async () => {
    const seen: string[] = [];
    const lines: string[] = [];
    const at = await serve('http', handler({ gcpResponseLimitBytes: FIRST_GEN, logSink: () => undefined, use: [watcher(seen)] }, text(FIRST_GEN)));
    const ok = await call(at);
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBe(FIRST_GEN);
    expect(seen).toEqual(['after']);

    seen.length = 0;
    const over = await serve('http', handler({ gcpResponseLimitBytes: FIRST_GEN, logSink: (l) => void lines.push(l), use: [watcher(seen)] }, text(FIRST_GEN + 1)));
    const refused = await call(over);
    expect(refused.status).toBe(500);
    expect(JSON.parse(refused.body.toString('utf8'))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(seen).toEqual(['onError RESPONSE_TOO_LARGE']);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
    expect(failed).toMatchObject({ level: 'error', provider: 'gcp', code: 'RESPONSE_TOO_LARGE', size: FIRST_GEN + 1, limit: FIRST_GEN });
  });

  it('counts a binary body by its bytes, and holds for Cloud Scheduler HTTP targets too', async () => {
    const bytes = (n: number) => () => httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(n, 7) });
    const ok = await call(await serve('http', handler({ gcpResponseLimitBytes: FIRST_GEN, logSink: () => undefined }, bytes(FIRST_GEN))));
    expect([ok.status, ok.body.length]).toEqual([200, FIRST_GEN]);
    expect((await call(await serve('http', handler({ gcpResponseLimitBytes: FIRST_GEN, logSink: () => undefined }, bytes(FIRST_GEN + 1))))).status).toBe(500);

    const scheduler = { 'x-cloudscheduler': 'true', 'x-cloudscheduler-jobname': 'nightly-report', 'x-cloudscheduler-scheduletime': '2025-03-01T02:00:00Z' };
    const tick = await call(await serve('http', handler({ gcpResponseLimitBytes: FIRST_GEN, gcpSchedulerHttp: true, logSink: () => undefined }, text(FIRST_GEN + 1))), scheduler);
    expect(tick.status).toBe(500);
    expect(JSON.parse(tick.body.toString('utf8'))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });

  it('a limit set below the body refuses what the 32 MB default sends (the same response, two definitions)', async () => {
    const fn = text(FIRST_GEN + 1);
    expect((await call(await serve('http', handler({ logSink: () => undefined }, fn)))).status).toBe(200);
    expect((await call(await serve('http', handler({ gcpResponseLimitBytes: FIRST_GEN, logSink: () => undefined }, fn)))).status).toBe(500);
  });

  it.each([[0], [-1], [10.5], ['10MB'], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [10_000_000n]])('refuses %s at handler() time with a CONFIG_INVALID naming the option', (value) => {
    expect(() => handler({ gcpResponseLimitBytes: value as never }, () => 1)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'gcpResponseLimitBytes', retryable: false }));
  });

  it('says what it expected', () => {
    expect(() => handler({ gcpResponseLimitBytes: 0 }, () => 1)).toThrow('handler(): option "gcpResponseLimitBytes" must be an integer from 1 to 9007199254740991; got 0');
  });
});
