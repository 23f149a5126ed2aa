/**
 * A Cloud Scheduler HTTP target's tick is a delivery its sender retries by status, as a Pub/Sub
 * push is: Cloud Scheduler counts a 2xx as success and retries anything else under the job's
 * retry config (https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#RetryConfig).
 * It was answered as a plain HTTP request: a terminal failure under `terminalErrors: 'ack'` was
 * its 4xx (retried, unlike the same tick's CloudEvent, an EventBridge or an Azure timer tick), and
 * a failure made with a 2xx status counted as success. Sent to the real Functions Framework, to
 * handlers that opt in to reading such calls as ticks (`gcpSchedulerHttp: true`).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler, httpError, TerminalError } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

const tick = JSON.parse(readFileSync(new URL('./fixtures/gcp/cloud-scheduler-http.json', import.meta.url), 'utf8')) as { headers: Record<string, string>; body: unknown };
const send = (url: string) => request(url).post('/').set(tick.headers).send(JSON.stringify(tick.body));

describe('Cloud Scheduler HTTP target: the answer follows terminalErrors and never reports a failure as success', () => {
  it('a terminal failure under terminalErrors: ack is 204; under fail its 4xx; a retryable one 500', async () => {
    let thrown: Error = new TerminalError('NOTHING_TO_RECONCILE', 'Nothing to do');
    const fn = (): never => {
      throw thrown;
    };
    const acking = await serve('http', handler({ gcpSchedulerHttp: true, terminalErrors: 'ack', logSink: () => undefined }, fn));
    const failing = await serve('http', handler({ gcpSchedulerHttp: true, logSink: () => undefined }, fn));
    expect((await send(acking)).status).toBe(204);
    const reported = await send(failing);
    expect(reported.status).toBe(422);
    expect(JSON.parse(reported.text)).toMatchObject({ code: 'NOTHING_TO_RECONCILE' });
    thrown = new Error('downstream down');
    expect((await send(acking)).status).toBe(500);
  });

  it('a failure made with a 2xx status is answered 500, its code kept; a success keeps its result', async () => {
    let fail = true;
    const url = await serve('http', handler({ gcpSchedulerHttp: true, logSink: () => undefined }, () => {
      if (fail) throw httpError(202, 'LATER', 'Try later', { retryable: true });
      return { reconciled: 3 };
    }));
    const res = await send(url);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'LATER' });
    fail = false;
    const ok = await send(url);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ reconciled: 3 });
  });
});
