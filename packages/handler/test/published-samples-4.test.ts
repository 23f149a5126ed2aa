/**
 * Published sample events not replayed before (files in test/fixtures/samples, sources in
 * SOURCES.md, "Replayed by `published-samples-4.test.ts`"), data unchanged: Powertools
 * TypeScript parser events through both AWS entries, google-cloudevents `testdata` payloads as
 * CloudEvents through the real Functions Framework, and the Azure timer payload of the
 * Python worker's issue #858 through `@azure/functions`. Each row checks the trigger the
 * handler makes of it and the answer it sends back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { handler, httpResult, type Context } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';
import { invocationContext } from './support/azure.js';
import { NOT_RECOGNISED, recorder, runOnAwsEntries, sample, type Json } from './support/published.js';

afterAll(closeServers);

describe('AWS (Powertools TypeScript parser events)', () => {
  it('REST API GET with a body, repeated headers and query values, a client certificate', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-apigw-rest-other.json'), () => ({ ok: true }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toBe('Hello from Lambda!');
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'GET', path: '/other/path', sourceIp: '192.168.0.1', headers: { header2: 'value1, value2' }, multiQuery: { parameter1: ['value1', 'value2'] } } });
    expect(run.answer).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
  });

  it('HTTP API GET with cookies, a repeated query name and a JWT authorizer: the query is the input; a 304 goes without body', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-apigw-http-other-get.json'), () => httpResult({ status: 304, headers: { etag: '"e1"' }, body: 'unchanged' }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({ parameter1: ['value1', 'value2'], parameter2: 'value' });
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { headers: { cookie: 'cookie1; cookie2' }, multiQuery: { parameter1: ['value1', 'value2'] }, sourceIp: '192.168.0.1' } });
    expect(run.answer).toEqual({ statusCode: 304, headers: { 'content-type': 'text/plain; charset=utf-8', etag: '"e1"' }, body: '', isBase64Encoded: false });
  });

  it('ALB request to a path with a trailing slash: the path as sent, sourceIp from X-Forwarded-For', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-alb-path-trailing-slash.json'), () => 'hi');
    expect(run.seen[0]!.input).toBe('Test');
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/lambda/', query: { query: '1234ABCD' }, sourceIp: '72.12.164.125' } });
    expect(run.answer).toMatchObject({ statusCode: 200, statusDescription: '200 OK', body: 'hi' });
  });

  it.each([
    ['pt-firehose-from-data-stream.json', 'Kinesis Data Firehose transformation'],
    ['pt-s3-object-lambda.json', 'S3 Object Lambda'],
  ])('%s runs as direct, named in the warn line, the event whole as input', async (file, shape) => {
    const event = sample('aws', file);
    const run = await runOnAwsEntries(event, () => ({ answered: true }));
    expect(run.seen[0]!.input).toEqual(event);
    expect(run.seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: shape });
    expect(run.lines.find((l) => l.msg === NOT_RECOGNISED)).toMatchObject({ shape });
    expect(run.answer).toEqual({ answered: true });
  });
});

describe('Google Cloud (google-cloudevents testdata, as CloudEvents through the Functions Framework)', () => {
  async function post(ce: Json) {
    const { seen, fn } = recorder();
    const url = await serve('cloudEvent', handler({ logSink: () => undefined }, fn));
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(ce) });
    await res.arrayBuffer();
    return { status: res.status, seen };
  }

  it('Pub/Sub message with both camelCase and snake_case ids: one message, its bytes', async () => {
    const data = sample('gcp', 'pubsub-message-duplicated-fields.json');
    const { status, seen } = await post({ specversion: '1.0', id: 'message-id', source: '//pubsub.googleapis.com/projects/my-project/topics/my-topic', type: 'google.cloud.pubsub.topic.v1.messagePublished', datacontenttype: 'application/json', time: '2021-02-05T04:06:14.109Z', data });
    expect(status).toBe(204);
    expect(seen[0]!.input).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'pubsub', queue: 'projects/my-project/subscriptions/my-subscription', messageId: 'message-id', attributes: {}, batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/my-project/topics/my-topic#message-id');
  });

  it('Cloud Scheduler job executed: a schedule tick of the job (its data as input), named job@time', async () => {
    const data = sample('gcp', 'scheduler-job-simple.json');
    const source = '//cloudscheduler.googleapis.com/projects/my-project/locations/us-central1/jobs/my-job';
    const { status, seen } = await post({ specversion: '1.0', id: '8116c1c4-1', source, type: 'google.cloud.scheduler.job.v1.executed', datacontenttype: 'application/json', time: '2021-02-05T04:06:14.109Z', data });
    expect(status).toBe(204);
    expect(seen[0]!.input).toEqual(data);
    const job = 'projects/my-project/locations/us-central1/jobs/my-job';
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'cloud-scheduler', schedule: job, scheduledTime: '2021-02-05T04:06:14.109Z' });
    expect(seen[0]!.ctx.deliveryId).toBe(`${job}@2021-02-05T04:06:14.109Z`);
  });
});

describe('Azure timer (Azure/azure-functions-python-worker#858 payload)', () => {
  it('a past-due tick keeps the occurrence it ran for (`next`, byte-exact) as scheduledTime and delivery id', async () => {
    const seen: Context[] = [];
    const fn = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    const timer = { schedule: {}, scheduleStatus: { last: '2016-10-04T10:15:00+00:00', lastUpdated: '2016-10-04T10:16:00+00:00', next: '2016-10-04T10:20:00+00:00' }, isPastDue: true };
    await fn(timer, invocationContext({ invocationId: 'inv-t1', functionName: 'every5', triggerMetadata: {} }, trigger.timer({ schedule: '0 */5 * * * *' })));
    expect(seen[0]!.trigger).toMatchObject({ kind: 'schedule', source: 'azure-timer', schedule: 'every5', scheduledTime: '2016-10-04T10:20:00+00:00', pastDue: true });
    expect(seen[0]!.deliveryId).toBe('every5@2016-10-04T10:20:00+00:00');
  });
});
