/**
 * Review finding: on Cloud Functions the deadline came only from `CLOUD_RUN_TIMEOUT_SECONDS`
 * (what the Functions Framework reads) or `FUNCTION_TIMEOUT_SEC` (1st gen's older runtimes);
 * with neither set it was `Infinity` whatever the function said — `ctx.signal` never aborted
 * and the idempotency and inbox leases fell back to 5 minutes (`*_LEASE_NO_DEADLINE`) — and
 * there was no way to give it. `timeoutMs` given explicitly is now the function's timeout there
 * too (the earlier of it and the platform's variable). Run on the real Functions Framework test
 * server, HTTP and CloudEvent.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

const VARS = ['CLOUD_RUN_TIMEOUT_SECONDS', 'FUNCTION_TIMEOUT_SEC'] as const;
const saved = Object.fromEntries(VARS.map((name) => [name, process.env[name]]));
beforeEach(() => VARS.forEach((name) => delete process.env[name]));
afterEach(() => VARS.forEach((name) => (saved[name] === undefined ? delete process.env[name] : (process.env[name] = saved[name]))));

/** The ms from the request to `ctx.deadline`, bounded by the clock read around the call. */
async function deadlineAfter(kind: 'http' | 'cloudEvent', options: { timeoutMs?: number }): Promise<{ low: number; high: number }> {
  let deadline = Number.NaN;
  const fn = (_input: unknown, ctx: { deadline: number }) => void (deadline = ctx.deadline);
  const url = await serve(kind, kind === 'http' ? handler({ ...options, logSink: () => undefined }, fn) : gcpHandler({ ...options, logSink: () => undefined }, fn));
  const before = Date.now();
  const req = request(url).post('/');
  const res = await (kind === 'http'
    ? req.send({ a: 1 })
    : req.set({ 'ce-specversion': '1.0', 'ce-id': 'e1', 'ce-type': 'com.example.thing', 'ce-source': '//example', 'content-type': 'application/json' }).send({ a: 1 }));
  const after = Date.now();
  expect(res.status).toBeLessThan(300);
  return { low: deadline - after, high: deadline - before };
}

describe('Cloud Functions deadline: timeoutMs when the platform names none', () => {
  for (const kind of ['http', 'cloudEvent'] as const) {
    it(`${kind}: neither variable set — timeoutMs given is the deadline; not given, there is none (as before)`, async () => {
      const given = await deadlineAfter(kind, { timeoutMs: 60_000 });
      expect(given.low).toBeLessThanOrEqual(60_000);
      expect(given.high).toBeGreaterThanOrEqual(60_000);
      expect((await deadlineAfter(kind, {})).low).toBe(Number.POSITIVE_INFINITY);
    });
  }

  it('with a variable set, the earlier of it and timeoutMs', async () => {
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '30';
    const shorter = await deadlineAfter('http', { timeoutMs: 60_000 });
    expect([shorter.low <= 30_000, shorter.high >= 30_000]).toEqual([true, true]);
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '120';
    const longer = await deadlineAfter('http', { timeoutMs: 60_000 });
    expect([longer.low <= 60_000, longer.high >= 60_000]).toEqual([true, true]);
    const platform = await deadlineAfter('http', {});
    expect([platform.low <= 120_000, platform.high >= 120_000]).toEqual([true, true]);
  });
});
