/**
 * google-cloudevents `testdata` payloads not replayed before (files in test/fixtures/samples/gcp,
 * sources in SOURCES.md, "Replayed by `published-samples-6.test.ts`"), data unchanged, as
 * binary-mode CloudEvents with the `ce-*` attributes of their Eventarc event type, through the
 * real Functions Framework: to a CloudEvent function and to a background (`event` signature)
 * function. The framework converts Pub/Sub and Analytics events for the latter
 * (`CE_TO_BACKGROUND_TYPE`: the Pub/Sub message is flattened and its `messageId` dropped, so the
 * event id keys it — Eventarc sends the message id as the CloudEvent id) and hands the others
 * over as they came.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { closeServers, serve, serveBackground } from './support/gcp-server.js';
import { NOT_RECOGNISED, logs, recorder, sample, type Json } from './support/published.js';

afterAll(closeServers);

type Signature = 'cloudEvent' | 'event';

async function send(signature: Signature, ce: Record<string, string>, data: Json) {
  const { seen, fn } = recorder();
  const { lines, logSink } = logs();
  const main = handler({ logSink }, fn);
  const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main as (d: unknown, c: unknown) => unknown);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'id-1', 'ce-time': '2021-11-25T21:04:32.279Z' };
  for (const [name, value] of Object.entries(ce)) headers[`ce-${name}`] = value;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(data) });
  await res.arrayBuffer();
  return { status: res.status, seen, lines };
}

const time = '2021-11-25T21:04:32.279Z';

describe('Google Cloud (google-cloudevents testdata, binary CloudEvents through the Functions Framework)', () => {
  it('cloudEvent: Pub/Sub message without publishTime or attributes, data not UTF-8: its bytes, keyed by messageId', async () => {
    const data = sample('gcp', 'cloudevents-pubsub-binary.json');
    const { status, seen } = await send('cloudEvent', { type: 'google.cloud.pubsub.topic.v1.messagePublished', source: '//pubsub.googleapis.com/projects/my-project/topics/my-topic' }, data);
    expect(status).toBe(204);
    expect(seen[0]!.input).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'pubsub', queue: 'projects/my-project/subscriptions/my-subscription', messageId: 'message-id', attributes: {}, batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/my-project/topics/my-topic#message-id');
  });

  it('event: the same message as the framework converts it (flattened, messageId dropped): its bytes, keyed by the event id, the topic as queue', async () => {
    const data = sample('gcp', 'cloudevents-pubsub-binary.json');
    const { status, seen } = await send('event', { type: 'google.cloud.pubsub.topic.v1.messagePublished', source: '//pubsub.googleapis.com/projects/my-project/topics/my-topic' }, data);
    expect(status).toBe(204);
    expect(seen[0]!.input).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'pubsub', queue: '//pubsub.googleapis.com/projects/my-project/topics/my-topic', messageId: 'id-1', attributes: {}, batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/my-project/topics/my-topic#id-1');
  });

  const generic: Array<[string, string, Record<string, string>]> = [
    ['Remote Config update', 'cloudevents-remoteconfig-simple.json', { type: 'google.firebase.remoteconfig.remoteConfig.v1.updated', source: '//firebaseremoteconfig.googleapis.com/projects/my-project-id' }],
    ['Test Lab matrix completed', 'cloudevents-testlab-simple.json', { type: 'google.firebase.testlab.testMatrix.v1.completed', source: '//firebasetestlab.googleapis.com/projects/my-project-id' }],
    ['Firebase Alerts (Crashlytics new non-fatal issue)', 'cloudevents-alert-simple.json', { type: 'google.firebase.firebasealerts.alerts.v1.published', source: '//firebasealerts.googleapis.com/projects/my-project-id', alerttype: 'crashlytics.newNonfatalIssue', appid: '1:123456789:android:abcdef' }],
    ['Audit Log entry (Pub/Sub CreateTopic, with a `resource` field of its own)', 'cloudevents-audit-pubsub-create-topic.json', { type: 'google.cloud.audit.log.v1.written', source: '//cloudaudit.googleapis.com/projects/test-project/logs/activity', subject: 'pubsub.googleapis.com/projects/test-project/topics/test-auditlogs-source', methodname: 'google.pubsub.v1.Publisher.CreateTopic', servicename: 'pubsub.googleapis.com', resourcename: 'projects/test-project/topics/test-auditlogs-source' }],
    ['Cloud Build status change', 'cloudevents-cloudbuild-simple.json', { type: 'google.cloud.cloudbuild.build.v1.statusChanged', source: '//cloudbuild.googleapis.com/projects/my-project/locations/global/builds/b-1', subject: 'builds/b-1' }],
    ['Audit Log entry (BigQuery job completed, int64 statistics as text)', 'cloudevents-audit-bigquery-job-completed.json', { type: 'google.cloud.audit.log.v1.written', source: '//cloudaudit.googleapis.com/projects/my-project/logs/data_access', subject: 'bigquery.googleapis.com/projects/my-project/jobs/bqjob_r3ac45813612fa2d6_0000017d591922c9_1', methodname: 'jobservice.jobcompleted', servicename: 'bigquery.googleapis.com', resourcename: 'projects/my-project/jobs/bqjob_r3ac45813612fa2d6_0000017d591922c9_1' }],
    ['Audit Log entry (Monitoring CreateTimeSeries, `@type` members in the payload)', 'cloudevents-audit-monitoring-create-time-series.json', { type: 'google.cloud.audit.log.v1.written', source: '//cloudaudit.googleapis.com/projects/test-project/logs/data_access', subject: 'monitoring.googleapis.com/projects/test-project', methodname: 'google.monitoring.v3.MetricService.CreateTimeSeries', servicename: 'monitoring.googleapis.com', resourcename: 'projects/test-project' }],
    ['Cloud Build status change (every field, a negative int32)', 'cloudevents-cloudbuild-complex.json', { type: 'google.cloud.cloudbuild.build.v1.statusChanged', source: '//cloudbuild.googleapis.com/projects/my-project/locations/global/builds/b-2', subject: 'builds/b-2' }],
  ];
  for (const signature of ['cloudEvent', 'event'] as const) {
    for (const [what, file, ce] of generic) {
      it(`${signature}: ${what} (not converted by the framework): an event with its data unchanged as input, no warn`, async () => {
        const data = sample('gcp', file);
        const { status, seen, lines } = await send(signature, ce, data);
        expect(status).toBe(204);
        expect(seen[0]!.input).toEqual(data);
        const expected: Json = { kind: 'event', source: 'cloudevent', type: ce.type, eventSource: ce.source, id: 'id-1', time };
        if (ce.subject) expected.subject = ce.subject;
        expect(seen[0]!.ctx.trigger).toEqual(expected);
        expect(seen[0]!.ctx.deliveryId).toBe(`${ce.source}#id-1`);
        expect(lines.filter((l) => l.msg === NOT_RECOGNISED)).toEqual([]);
      });
    }
  }

  it('Analytics log: the data unchanged (micros and int64 values stay text); the framework converts the type for an `event` function', async () => {
    const data = sample('gcp', 'cloudevents-analytics-complex.json');
    const ce = { type: 'google.firebase.analytics.log.v1.written', source: '//firebaseanalytics.googleapis.com/projects/my-project-id/apps/com.example.exampleapp' };
    const asCloudEvent = await send('cloudEvent', ce, data);
    const asEvent = await send('event', ce, data);
    for (const run of [asCloudEvent, asEvent]) {
      expect(run.status).toBe(204);
      expect(run.seen[0]!.input).toEqual(data);
    }
    // Keyed by source and id; for an `event` function the source is the resource the framework's conversion left.
    expect(asCloudEvent.seen[0]!.ctx.deliveryId).toBe(`${ce.source}#id-1`);
    const converted = asEvent.seen[0]!.ctx.trigger as { eventSource?: string };
    expect(asEvent.seen[0]!.ctx.deliveryId).toBe(`${converted.eventSource}#id-1`);
    expect(asCloudEvent.seen[0]!.ctx.trigger).toEqual({ kind: 'event', source: 'cloudevent', type: ce.type, eventSource: ce.source, id: 'id-1', time });
    expect(asEvent.seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', type: 'providers/google.firebase.analytics/eventTypes/event.log', id: 'id-1', time });
  });
});
