/**
 * Review finding (security): any caller of a public Cloud Functions HTTP function could pose as
 * Cloud Scheduler. A request with `x-cloudscheduler: true` was read as a `schedule` tick keyed
 * `ctx.deliveryId = <x-cloudscheduler-jobname>@<x-cloudscheduler-scheduletime>` — plain headers
 * anyone can send — so a forged tick sent the day before made the real tick a replay under
 * idempotency `'auto'`: the job never ran. Recognising a Scheduler HTTP target is now opt-in
 * (`gcpSchedulerHttp: true`), as a Pub/Sub push is (`gcpPubSubPush`). Sent to the real Functions
 * Framework test server, with the real idempotency plugin on its memory store.
 */
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { SCHEDULER_IGNORED } from '../src/providers/gcp-scheduler.js';
import { idempotency, memoryStore } from '../../idempotency/src/index.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

/** What a caller who is not Cloud Scheduler sends for tomorrow's tick of a known job. */
const forged = {
  'x-cloudscheduler': 'true',
  'x-cloudscheduler-jobname': 'nightly-reconcile',
  'x-cloudscheduler-scheduletime': '2026-12-07T02:00:00.000Z',
  'user-agent': 'Google-Cloud-Scheduler',
  'content-type': 'application/json',
};

const entries = { root: handler, gcp: gcpHandler } as const;

describe('Cloud Scheduler HTTP targets are recognised only with gcpSchedulerHttp', () => {
  for (const [entry, make] of Object.entries(entries)) {
    it(`${entry} entry, option off (the default): a request with the scheduler's headers is plain http, no deliveryId; the first is named in a warn line`, async () => {
      const seen: Array<{ kind: string; deliveryId: string | undefined }> = [];
      const lines: string[] = [];
      const url = await serve('http', make({ logLevel: 'warn', logSink: (l) => lines.push(l) }, (_input, ctx) => void seen.push({ kind: ctx.trigger.kind, deliveryId: ctx.deliveryId })));
      for (let i = 0; i < 2; i++) expect((await request(url).post('/').set(forged).send('{}')).status).toBe(204);
      expect(seen).toEqual([
        { kind: 'http', deliveryId: undefined },
        { kind: 'http', deliveryId: undefined },
      ]);
      const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg ?? l.message) === SCHEDULER_IGNORED);
      expect(warned, lines.join('\n')).toHaveLength(1);
      expect(warned[0]).toMatchObject({ level: 'warn', provider: 'gcp' });
    });
  }

  it("a forged tick sent before the real one does not make the real one a replay under idempotency 'auto'", async () => {
    // The forger need not know the job's body: before, the key was the headers' <job>@<time>
    // alone. Now the calls are plain POSTs, each keyed by a hash of its own request.
    let runs = 0;
    const main = handler({ use: [idempotency({ store: memoryStore(), ttlMs: 86_400_000 })], logSink: () => undefined }, () => ({ run: ++runs }));
    const url = await serve('http', main);
    const first = await request(url).post('/').set(forged).send('{"forged":true}');
    const real = await request(url).post('/').set(forged).send('{"scope":"yesterday"}');
    expect([first.status, real.status]).toEqual([200, 200]);
    expect(real.headers['idempotency-replayed']).toBeUndefined();
    expect(real.body).toEqual({ run: 2 });
    expect(runs).toBe(2);
  });

  it('option on: the call is the schedule tick keyed <job>@<time>, a retry of it a replay (what the deployment vouches for)', async () => {
    let runs = 0;
    const seen: Array<{ kind: string; deliveryId: string | undefined }> = [];
    const main = handler({ gcpSchedulerHttp: true, use: [idempotency({ store: memoryStore(), ttlMs: 86_400_000 })], logSink: () => undefined }, (_input, ctx) => {
      seen.push({ kind: ctx.trigger.kind, deliveryId: ctx.deliveryId });
      return { run: ++runs };
    });
    const url = await serve('http', main);
    for (let i = 0; i < 2; i++) expect((await request(url).post('/').set(forged).send('{}')).status).toBe(200);
    expect(seen).toEqual([{ kind: 'schedule', deliveryId: 'nightly-reconcile@2026-12-07T02:00:00.000Z' }]);
    expect(runs).toBe(1);
  });

  it.each([['yes'], [1], [null]])('refuses gcpSchedulerHttp: %s at handler() time with a CONFIG_INVALID naming the option', (value) => {
    expect(() => handler({ gcpSchedulerHttp: value as never }, () => 1)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'gcpSchedulerHttp', retryable: false }));
  });
});
