/**
 * Events that used to run as a silent `direct` (or as a different trigger on each entry), replayed
 * from published samples where one exists (repository, path and commit of each in
 * test/fixtures/samples/SOURCES.md): the shape is now named in the `event not recognised` warn,
 * a scheduled tick with a `null` detail gets `{}`, and the root entry agrees with
 * `@steadyfn/handler/gcp` on a body a CloudEvent function receives that is not a CloudEvent.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { detectProvider } from '../src/detect.js';
import { closeServers, serve } from './support/gcp-server.js';
import { logs, NOT_RECOGNISED, recorder, runOnAwsEntries as aws, sample as published, type Json } from './support/published.js';

afterAll(closeServers);

const sample = (name: string): Json => published('aws', name);
const warnings = (lines: Json[]) => lines.filter((l) => l.level === 'warn');

describe('AWS events without a trigger kind: direct, and the shape named', () => {
  const cases: Array<[string, () => unknown, string]> = [
    // aws/aws-lambda-go events/testdata/cognito-event.json
    ['Cognito Sync (cognito-event.json)', () => sample('lgo-cognito-event.json'), 'Cognito Sync trigger'],
    // aws/aws-lambda-go events/testdata/iot-button-event.json
    ['IoT button (iot-button-event.json)', () => sample('lgo-iot-button-event.json'), 'AWS IoT button'],
    // aws/aws-lambda-go events/testdata/iot-1-click-event.json
    ['IoT 1-Click (iot-1-click-event.json)', () => sample('lgo-iot-1-click-event.json'), 'AWS IoT 1-Click'],
    // aws/aws-lambda-go events/testdata/appsync-batchinvoke.json
    ['AppSync BatchInvoke template (appsync-batchinvoke.json)', () => sample('lgo-appsync-batchinvoke.json'), 'AppSync resolver'],
    // aws/aws-lambda-go events/testdata/lexv2-event.json (named before this change too: a guard).
    ['Lex V2 (lexv2-event.json)', () => sample('lgo-lexv2-event.json'), 'Lex bot'],
    // A direct Lambda resolver with batching gets a list of the contexts it would get one by one
    // (AppSync developer guide, "Direct Lambda resolvers" → batching); each item here is
    // aws-powertools/powertools-lambda-typescript packages/parser/tests/events/appsync/no-identity.json.
    ['AppSync direct resolver batch (a list of no-identity.json contexts)', () => [sample('pt-appsync-no-identity.json'), sample('pt-appsync-no-identity.json')], 'AppSync batch resolver'],
    // aws-powertools/powertools-lambda-typescript packages/parser/tests/events/activeMQEvent.json:
    // the Lambda developer guide's ActiveMQ event, whose eventSource is `aws:amq` (aws-lambda-go's
    // activemq-event.json writes `aws:mq`).
    ['ActiveMQ event source mapping (activeMQEvent.json, aws:amq)', () => sample('pt-activemq-event.json'), 'Amazon MQ'],
    // EventBridge User Guide, eb-pipes-mq.md, Example events: Pipes hands the target a JSON array
    // of the broker's messages, each with the mapping event's eventSource and eventSourceArn.
    ['EventBridge Pipes ActiveMQ array (eb-pipes-mq.md)', () => sample('ebpipes-activemq.json'), 'Amazon MQ (EventBridge Pipes)'],
    ['EventBridge Pipes RabbitMQ array (eb-pipes-mq.md)', () => sample('ebpipes-rabbitmq.json'), 'Amazon MQ (EventBridge Pipes)'],
  ];
  for (const [name, event, shape] of cases) {
    it(`${name}: direct, logged as ${shape}`, async () => {
      const given = event();
      const { seen, lines } = await aws(given);
      expect(seen[0]!.input).toEqual(given);
      expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: shape });
      expect(warnings(lines)).toMatchObject([{ msg: NOT_RECOGNISED, shape }]);
    });
  }

  it('a plain array or object the caller passes stays a silent direct invocation', async () => {
    const appSyncLike = sample('pt-appsync-no-identity.json');
    const mq = (sample('ebpipes-activemq.json') as unknown as Json[])[0]!;
    for (const given of [[1, 2, 3], [{ arguments: { id: 'a' } }], [appSyncLike, { id: 'not a context' }], [mq, { id: 'not a message' }], [{ ...mq, data: 1 }], [], { orders: [{ id: 'o-1' }], operation: 'sum' }, { clickType: 'SINGLE' }]) {
      const { seen, lines } = await aws(given);
      expect(seen[0]!.input).toEqual(given);
      expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke' });
      expect(warnings(lines)).toEqual([]);
    }
  });
});

describe('EventBridge scheduled event with detail null', () => {
  // The scheduled-rule event of the EventBridge user guide ("Tutorial: Schedule AWS Lambda
  // functions using EventBridge", eb-run-lambda-schedule), its `detail` sent as null.
  const tick = {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: '2015-10-08T16:53:06Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule'],
    detail: null,
  };

  it('a schedule tick whose detail is null gets {} (the README: `detail` / `{}`)', async () => {
    for (const source of ['aws.events', 'aws.scheduler']) {
      const { seen } = await aws({ ...tick, source });
      expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'schedule', scheduledTime: tick.time });
      expect(seen[0]!.input).toEqual({});
    }
  });

  it('any other EventBridge event keeps its null detail as the input', async () => {
    const { seen } = await aws({ ...tick, 'detail-type': 'Order Placed', source: 'com.example.orders' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', type: 'Order Placed' });
    expect(seen[0]!.input).toBeNull();
  });
});

describe('Cloud Functions: a CloudEvent function given a body that is not a CloudEvent', () => {
  const saved = process.env.FUNCTION_SIGNATURE_TYPE;
  afterEach(() => {
    if (saved === undefined) delete process.env.FUNCTION_SIGNATURE_TYPE;
    else process.env.FUNCTION_SIGNATURE_TYPE = saved;
  });

  /**
   * POSTs `body` as structured JSON to a CloudEvent function served by the Functions Framework's
   * own test server (it hands the function the body as it is: it rejects nothing), wrapped by the
   * root entry and by `@steadyfn/handler/gcp`.
   */
  async function post(body: unknown) {
    const runs: Array<{ entry: string; status: number; seen: ReturnType<typeof recorder>['seen']; lines: Json[] }> = [];
    for (const entry of ['root', 'gcp'] as const) {
      const { seen, fn } = recorder();
      const { lines, logSink } = logs();
      const main = entry === 'root' ? handler({ logSink, logLevel: 'debug' }, fn) : gcpHandler({ logSink, logLevel: 'debug' }, fn);
      const res = await fetch(await serve('cloudEvent', main), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer();
      runs.push({ entry, status: res.status, seen, lines });
    }
    return runs;
  }

  it('a CloudEvent missing type and source: both entries answer MALFORMED_EVENT naming them (root used to run it as direct)', async () => {
    for (const run of await post({ specversion: '1.0', id: 'ce-1', data: { a: 1 } })) {
      expect(run.seen, run.entry).toEqual([]);
      // The framework answers any error a CloudEvent function throws with a 500; MALFORMED_EVENT
      // itself is a non-retryable 400, thrown because `terminalErrors` defaults to 'fail'.
      expect(run.status, run.entry).toBe(500);
      expect(warnings(run.lines), run.entry).toMatchObject([{ msg: 'malformed event', code: 'MALFORMED_EVENT' }]);
    }
  });

  it('with FUNCTION_SIGNATURE_TYPE=cloudevent any one-argument body is a CloudEvent on the root entry too', async () => {
    process.env.FUNCTION_SIGNATURE_TYPE = 'cloudevent';
    for (const run of await post({ order: 'o-1' })) {
      expect(run.seen, run.entry).toEqual([]);
      expect(run.status, run.entry).toBe(500);
      expect(warnings(run.lines), run.entry).toMatchObject([{ msg: 'malformed event', code: 'MALFORMED_EVENT' }]);
    }
    expect(detectProvider([{ order: 'o-1' }], { FUNCTION_SIGNATURE_TYPE: 'cloudevent' })).toBe('gcp');
    expect(detectProvider([{ order: 'o-1' }], { FUNCTION_SIGNATURE_TYPE: 'http' })).toBe('direct');
  });

  it('without it, a legacy GCF event no converter knows runs as direct on the root entry, logged with its shape', async () => {
    delete process.env.FUNCTION_SIGNATURE_TYPE;
    // GoogleCloudPlatform/functions-framework-nodejs test/integration/legacy_event.ts, "GCF legacy
    // event" (test/fixtures/samples/gcp/ff-gcf-legacy-event.json).
    const legacy = JSON.parse(readFileSync(new URL('./fixtures/samples/gcp/ff-gcf-legacy-event.json', import.meta.url), 'utf8')) as { body: Json };
    const [root, gcp] = (await post(legacy.body)) as [Awaited<ReturnType<typeof post>>[0], Awaited<ReturnType<typeof post>>[0]];
    expect(gcp.seen).toEqual([]);
    expect(gcp.status).toBe(500);
    expect(root.status).toBe(204);
    expect(root.seen[0]!.input).toEqual(legacy.body);
    expect(root.seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'direct', unrecognised: 'Cloud Functions legacy event' });
    expect(warnings(root.lines)).toMatchObject([{ msg: NOT_RECOGNISED, shape: 'Cloud Functions legacy event' }]);
  });

  it('a plain one-argument call is still a silent direct invocation', async () => {
    delete process.env.FUNCTION_SIGNATURE_TYPE;
    const { seen, fn } = recorder(() => 'ok');
    const { lines, logSink } = logs();
    const main = handler({ logSink, logLevel: 'debug' }, fn);
    for (const given of [{ order: 'o-1' }, { eventId: 'e-1', kind: 'custom' }, [1, 2]]) {
      await expect(main(given)).resolves.toBe('ok');
    }
    expect(seen.map((s) => s.ctx.trigger)).toEqual([0, 1, 2].map(() => ({ kind: 'direct', source: 'direct' })));
    expect(warnings(lines)).toEqual([]);
  });
});
