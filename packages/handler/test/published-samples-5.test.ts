/**
 * Published sample events not replayed before (files in test/fixtures/samples, sources in
 * SOURCES.md, "Replayed by `published-samples-5.test.ts`"), data unchanged: aws-lambda-go
 * events through both AWS entries; google-cloudevents `testdata` payloads as binary-mode
 * CloudEvents through the real Functions Framework, to a CloudEvent function and to a
 * background (`event` signature) function, which the framework hands its legacy conversion.
 *
 * Cloud Scheduler and background functions: a job calls a function through an HTTP target
 * (https://cloud.google.com/scheduler/docs/tut-gcf-http) or a Pub/Sub target, and an Eventarc
 * trigger needs a CloudEvent function (https://cloud.google.com/functions/docs/calling/eventarc), so a
 * background function sees a job only as the Pub/Sub message of a Pub/Sub target (replayed in
 * published-events.gcp.test.ts). The framework still serves a `google.cloud.scheduler.job.v1.executed`
 * CloudEvent to an `event` function unconverted (not in its `CE_TO_BACKGROUND_TYPE`); that
 * reaches the handler as the same schedule tick, checked last here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { invocationAttributes } from '../src/trace/semconv.js';
import { closeServers, serve, serveBackground } from './support/gcp-server.js';
import { NOT_RECOGNISED, recorder, runOnAwsEntries, sample, type Json } from './support/published.js';

afterAll(closeServers);

describe('AWS (aws-lambda-go testdata)', () => {
  it('WebSocket $disconnect with empty header values: a DISCONNECT request of the connection, empty input', async () => {
    const run = await runOnAwsEntries(sample('aws', 'lgo-apigw-websocket-request-disconnect.json'), () => undefined);
    expect(run.seen[0]!.input).toEqual({});
    expect(run.seen[0]!.ctx.trigger).toMatchObject({
      kind: 'http',
      source: 'apigw-websocket',
      request: { method: 'DISCONNECT', path: '$disconnect', headers: { 'x-api-key': '', 'x-forwarded-for': '' }, sourceIp: '49.105.91.154' },
      websocket: { connectionId: 'R1kmxc2VNjMCFIA=', eventType: 'DISCONNECT', routeKey: '$disconnect', stage: 'prod' },
    });
    expect(run.answer).toMatchObject({ statusCode: 204 });
  });

  it('HTTP API GET without an authorizer but with a client certificate: no principal, empty query', async () => {
    const run = await runOnAwsEntries(sample('aws', 'lgo-apigw-v2-request-no-authorizer.json'), () => ({ ok: true }));
    expect(run.seen[0]!.input).toEqual({});
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'GET', path: '/', query: {}, sourceIp: '1.2.3.4' } });
    expect(run.seen[0]!.ctx.principal).toBeUndefined();
    expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', isBase64Encoded: false });
  });

  it('ECR image push (EventBridge, empty resources): an event with its detail as input, no warn', async () => {
    const event = sample('aws', 'lgo-ecr-image-push-event.json');
    const run = await runOnAwsEntries(event, () => 'done');
    expect(run.seen[0]!.input).toEqual(event.detail);
    expect(run.seen[0]!.ctx.trigger).toEqual({ kind: 'event', source: 'eventbridge', type: 'ECR Image Action', eventSource: 'aws.ecr', id: '13cde686-328b-6117-af20-0e5566167482', time: '2019-11-16T01:54:34Z' });
    expect(run.seen[0]!.ctx.deliveryId).toBe('13cde686-328b-6117-af20-0e5566167482');
    expect(run.lines.filter((l) => l.msg === NOT_RECOGNISED)).toEqual([]);
    expect(run.answer).toBe('done');
  });
});

describe('Google Cloud (google-cloudevents testdata, binary CloudEvents through the Functions Framework)', () => {
  async function send(signature: 'cloudEvent' | 'event', ce: Record<string, string>, data: Json) {
    const { seen, fn } = recorder();
    const main = handler({ logSink: () => undefined }, fn);
    const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main as (d: unknown, c: unknown) => unknown);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'id-1', 'ce-time': '2021-11-25T21:04:32.279Z' };
    for (const [name, value] of Object.entries(ce)) headers[`ce-${name}`] = value;
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(data) });
    await res.arrayBuffer();
    return { status: res.status, seen };
  }

  for (const signature of ['cloudEvent', 'event'] as const) {
    it(`${signature}: Workflows-style storage object (size, generation as text): created object, size a number`, async () => {
      const data = sample('gcp', 'cloudevents-storage-workflows-simple.json');
      const { status, seen } = await send(signature, { type: 'google.cloud.storage.object.v1.finalized', source: '//storage.googleapis.com/projects/_/buckets/my-bucket', subject: 'objects/my-file.txt' }, data);
      expect(status).toBe(204);
      expect(seen[0]!.ctx.trigger).toEqual({ kind: 'storage', source: 'cloud-storage', op: 'created', eventType: 'google.cloud.storage.object.v1.finalized', bucket: 'my-bucket', key: 'my-file.txt', size: 13, etag: 'CPaEvZG1tPQCEAE=', contentType: 'text/plain', batchIndex: 0, batchSize: 1 });
      expect(seen[0]!.input).toMatchObject({ op: 'created', bucket: 'my-bucket', key: 'my-file.txt', size: 13, versionId: '1637874272256630' });
      expect(seen[0]!.ctx.deliveryId).toBe('//storage.googleapis.com/projects/_/buckets/my-bucket#id-1');
    });

    it(`${signature}: Realtime Database write with data and delta: an update of the ref, before = data, input = data with delta applied`, async () => {
      const data = sample('gcp', 'cloudevents-rtdb-reference-simple.json');
      const source = '//firebasedatabase.googleapis.com/projects/_/locations/us-central1/instances/my-project-id';
      const { status, seen } = await send(signature, { type: 'google.firebase.database.ref.v1.written', source, subject: 'refs/foo/bar' }, data);
      expect(status).toBe(204);
      expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firebase-rtdb', op: 'update', key: 'foo/bar', before: data.data });
      expect(seen[0]!.input).toEqual({ deeply: { nested: { text: 'This is deeply nested', text2: 'Second value' }, abc: 'def' }, grandchild: 'other changed' });
    });

    it(`${signature}: Firebase Auth user created: an event with the user record as input`, async () => {
      const data = sample('gcp', 'cloudevents-auth-complex.json');
      const { status, seen } = await send(signature, { type: 'google.firebase.auth.user.v1.created', source: '//firebaseauth.googleapis.com/projects/my-project-id' }, data);
      expect(status).toBe(204);
      expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', source: 'cloudevent', id: 'id-1' });
      // The framework's background conversion renames the metadata times (createTime → createdAt).
      expect(seen[0]!.input).toMatchObject({ uid: 'UUpby3s4spZre6kHsgVSPetzQ8l2', email: 'test@nowhere.com', providerData: data.providerData });
    });
  }

  it('event signature, Cloud Scheduler CloudEvent (served unconverted): the schedule tick, no faas.cron', async () => {
    const data = sample('gcp', 'scheduler-job-simple.json');
    const job = 'projects/my-project/locations/us-central1/jobs/my-job';
    const { status, seen } = await send('event', { type: 'google.cloud.scheduler.job.v1.executed', source: `//cloudscheduler.googleapis.com/${job}` }, data);
    expect(status).toBe(204);
    expect(seen[0]!.input).toEqual(data);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'cloud-scheduler', schedule: job, scheduledTime: '2021-11-25T21:04:32.279Z' });
    expect(invocationAttributes(seen[0]!.ctx)).toMatchObject({ 'faas.trigger': 'timer', 'faas.time': '2021-11-25T21:04:32.279Z', 'steadyfn.schedule': job });
    expect(invocationAttributes(seen[0]!.ctx)['faas.cron']).toBeUndefined();
  });
});
