/**
 * Review finding: a Cloud Scheduler CloudEvent (`google.cloud.scheduler.job.v1.executed`,
 * googleapis/google-cloudevents `proto/google/events/cloud/scheduler/v1/events.proto`; data
 * `SchedulerJobData` as in its `testdata/.../SchedulerJobData-simple.json`; source
 * `//cloudscheduler.googleapis.com/projects/<p>/locations/<l>/jobs/<job>`) reached the
 * function as a plain `event` trigger, while the same job through an HTTP target is a
 * `schedule` tick. Sent here to a CloudEvent function on the real Functions Framework test
 * server, structured and binary content modes, through the root entry and
 * `@steadyfn/handler/gcp`: it is the schedule trigger, the event's data is still the input
 * (as an EventBridge schedule's `detail` is), and `ctx.raw` is the CloudEvent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';
import { recorder, sample, type Json } from './support/published.js';

afterAll(closeServers);

const SOURCE = '//cloudscheduler.googleapis.com/projects/my-project/locations/us-central1/jobs/my-job';
const JOB = 'projects/my-project/locations/us-central1/jobs/my-job';
const TIME = '2021-02-05T04:06:14.109Z';

function structured(data: Json): { headers: Record<string, string>; body: string } {
  const ce = { specversion: '1.0', id: '8116c1c4-1', source: SOURCE, type: 'google.cloud.scheduler.job.v1.executed', datacontenttype: 'application/json', time: TIME, data };
  return { headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(ce) };
}

function binary(data: Json): { headers: Record<string, string>; body: string } {
  const headers = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': '8116c1c4-1', 'ce-source': SOURCE, 'ce-type': 'google.cloud.scheduler.job.v1.executed', 'ce-time': TIME };
  return { headers, body: JSON.stringify(data) };
}

describe('Cloud Scheduler CloudEvent (real Functions Framework, CloudEvent function)', () => {
  for (const [mode, make] of [['structured', structured], ['binary', binary]] as const) {
    for (const entry of ['root', 'gcp'] as const) {
      it(`${mode} mode, ${entry} entry: a schedule tick named by the job, the event's data as input`, async () => {
        const data = sample('gcp', 'scheduler-job-simple.json');
        const { seen, fn } = recorder();
        const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : gcpHandler({ logSink: () => undefined }, fn);
        const url = await serve('cloudEvent', main);
        const { headers, body } = make(data);
        const res = await fetch(url, { method: 'POST', headers, body });
        await res.arrayBuffer();
        expect(res.status).toBe(204);
        expect(seen).toHaveLength(1);
        expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'cloud-scheduler', schedule: JOB, scheduledTime: TIME });
        expect(seen[0]!.ctx.deliveryId).toBe(`${JOB}@${TIME}`);
        expect(seen[0]!.input).toEqual(data);
        expect(seen[0]!.ctx.raw).toMatchObject({ id: '8116c1c4-1', type: 'google.cloud.scheduler.job.v1.executed', data });
      });
    }
  }

  it('without a time: named by the CloudEvent id (stable across Eventarc redeliveries)', async () => {
    const { seen, fn } = recorder();
    const url = await serve('cloudEvent', gcpHandler({ logSink: () => undefined }, fn));
    const ce = { specversion: '1.0', id: 'ev-2', source: SOURCE, type: 'google.cloud.scheduler.job.v1.executed', datacontenttype: 'application/json', data: {} };
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(ce) });
    await res.arrayBuffer();
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'cloud-scheduler', schedule: JOB });
    expect(seen[0]!.ctx.deliveryId).toBe('ev-2');
  });
});
