/**
 * Schedule ticks. An OpenWhisk alarm carries only its `trigger_payload` — the same every time,
 * no fire time, no tick id — and a Cloud Scheduler HTTP call may come without its schedule
 * time. Keyed by the input hash (the `'auto'` fallback), every tick after the first was
 * answered with the first one's replay for `ttlMs`, so a five-minute alarm ran once a day;
 * under `key: 'header'` every such tick failed with IDEMPOTENCY_KEY_MISSING. They now run
 * without a record. Ticks with an identity (EventBridge `rule@time`) are still done once.
 * Through the real adapters: OpenWhisk's documented alarm parameters, the Functions Framework
 * server, Lambda's published scheduled event; on each real store.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, type IdempotencyOptions } from '../src/index.js';
import { closeServers, serve } from '../../handler/test/support/gcp-server.js';
import { BACKENDS, counting, lambdaContext, silentSink, useBackend } from './support.js';

const fixture = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/${path}`, import.meta.url), 'utf8')) as Record<string, any>;

afterAll(closeServers);

describe.each(BACKENDS)('schedule ticks on %s', (name) => {
  const backend = useBackend(name);

  function tickFunction(key: IdempotencyOptions['key'], gcpSchedulerHttp = true) {
    const store = counting(backend.store);
    const ticks: string[] = [];
    // gcpSchedulerHttp: a Cloud Scheduler HTTP call is a tick only when the handler opts in.
    const main = handler({ name: `tick-${randomUUID()}`, gcpSchedulerHttp, logSink: silentSink(), use: [idempotency({ store, ttlMs: 86_400_000, localCache: false, ...(key ? { key } : {}) })] }, (_input, ctx) => {
      ticks.push(ctx.requestId);
      return { tick: ticks.length };
    });
    return { main, store, ticks };
  }

  it.each(['auto', 'header'] as const)("OpenWhisk alarm ticks (key: '%s'): each one runs, none is a replay, nothing is stored", async (key) => {
    const { main, store, ticks } = tickFunction(key);
    const results = [];
    const saved = process.env.__OW_ACTIVATION_ID;
    try {
      for (let i = 0; i < 3; i++) {
        // As the runtime does before each activation.
        process.env.__OW_ACTIVATION_ID = `act-${i}`;
        results.push(await main.openwhisk(fixture('openwhisk/alarm-tick.json')));
      }
    } finally {
      if (saved === undefined) delete process.env.__OW_ACTIVATION_ID;
      else process.env.__OW_ACTIVATION_ID = saved;
    }
    expect(results).toEqual([{ tick: 1 }, { tick: 2 }, { tick: 3 }]);
    expect(ticks).toEqual(['act-0', 'act-1', 'act-2']);
    expect(store.total()).toBe(0);
  });

  it('Cloud Scheduler calls without a schedule time each run (Functions Framework)', async () => {
    const { main, store, ticks } = tickFunction('auto');
    const url = await serve('http', main.gcpHttp);
    const { headers, body } = fixture('gcp/cloud-scheduler-http.json');
    const withoutTime = Object.fromEntries(Object.entries(headers as Record<string, string>).filter(([h]) => h !== 'x-cloudscheduler-scheduletime'));
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url, { method: 'POST', headers: withoutTime, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      expect(res.headers.get('idempotency-replayed')).toBeNull();
    }
    expect(ticks).toHaveLength(2);
    expect(store.total()).toBe(0);
  });

  // After gcpSchedulerHttp became opt-in (forged ticks), a handler that did not opt in gets the
  // scheduler's calls as plain POSTs of the same body: keyed by its hash under 'auto', every tick
  // after the first was answered with the first one's replay (the job silently stopped running).
  it("Cloud Scheduler calls to a handler that did not opt in (gcpSchedulerHttp off) each run under 'auto': no replay by body hash", async () => {
    const { main, store, ticks } = tickFunction('auto', false);
    const url = await serve('http', main.gcpHttp);
    const { headers, body } = fixture('gcp/cloud-scheduler-http.json');
    for (const time of ['2026-12-07T02:00:00Z', '2026-12-07T02:05:00Z']) {
      const res = await fetch(url, { method: 'POST', headers: { ...(headers as Record<string, string>), 'x-cloudscheduler-scheduletime': time }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      expect(res.headers.get('idempotency-replayed')).toBeNull();
    }
    expect(ticks).toHaveLength(2);
    expect(store.total()).toBe(0);
    // A plain POST of the same body twice (no scheduler header) is still deduplicated by its hash.
    for (let i = 0; i < 2; i++) await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(ticks).toHaveLength(3);
  });

  it('an EventBridge scheduled event delivered twice is done once (its rule@time identifies the tick)', async () => {
    const { main, ticks } = tickFunction('auto');
    const event = fixture('aws/published/eventbridge-scheduled.json');
    const first = await main.aws(event, lambdaContext());
    const again = await main.aws(event, lambdaContext());
    expect(again).toEqual(first);
    expect(ticks).toHaveLength(1);
  });
});
