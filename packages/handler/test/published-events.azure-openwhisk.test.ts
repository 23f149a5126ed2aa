/**
 * Azure Functions and OpenWhisk activations shaped like the published samples (Azure trigger
 * docs; the OpenWhisk Kafka, Cloudant and alarms packages; see SOURCES.md in
 * test/fixtures/azure/published and test/fixtures/openwhisk/published). Azure runs with the
 * real `@azure/functions` `InvocationContext` and trigger options from its `trigger.*`
 * builders; OpenWhisk through `main.openwhisk`, the auto-detecting root (environment of the
 * action runtime) and `@steadyfn/handler/openwhisk`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRequest, InvocationContext, trigger, type FunctionTrigger } from '@azure/functions';
import { azureBoth, invocationContext } from './support/azure.js';
import { handler, httpResult, type Context } from '../src/index.js';
import { ControllerRefused, controllerHeaders, controllerHttp, controllerParams, controllerStatus } from './fixtures/openwhisk/controller.js';
import { handler as azureHandler } from '../src/azure.js';
import { handler as owHandler } from '../src/openwhisk.js';
import { failWhenAsked, logs, published, recorder, type Json } from './support/published.js';

describe('Azure Functions', () => {
  it('an Event Grid batch (array): a blob event as storage (name percent-decoded), another as notification', async () => {
    const f = published('azure', 'event-grid-array.json');
    const { seen } = await azureBoth(f.events, f.context, trigger.eventGrid({}));
    expect(seen).toHaveLength(2);
    expect(seen[0]!.input).toEqual({ op: 'created', bucket: 'uploads', key: 'dir/na me+1.png', size: 524288, etag: '0x8D4BCC2E4835CD0', contentType: 'image/png', time: '2025-03-02T17:00:00.000Z' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'azure-event-grid', batchIndex: 0, batchSize: 2 });
    expect(seen[0]!.ctx.deliveryId).toBe('831e1650-001e-001b-66ab-eeb76e069631');
    expect(seen[1]!.ctx.trigger).toMatchObject({ kind: 'notification', source: 'event-grid', type: 'Microsoft.Resources.ResourceWriteSuccess', messageId: '4eef929a-a65c-47dd-93e2-46b8c17c6c17' });
    expect(seen[1]!.input).toEqual({ authorization: { action: 'Microsoft.Resources/deployments/write' }, status: 'Succeeded' });
  });

  it('an Event Grid CloudEvent: keyed <source>#<id> with the id byte-exact, extension attributes as attributes', async () => {
    const f = published('azure', 'event-grid-cloudevent.json');
    const { seen } = await azureBoth(f.event, f.context, trigger.eventGrid({}));
    expect(seen[0]!.ctx.deliveryId).toBe('/contoso/orders#9007199254740993');
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'notification', topic: '/contoso/orders', type: 'Contoso.Orders.Placed', subject: 'orders/o-1', attributes: { tenant: 'acme' } });
    expect(seen[0]!.input).toEqual({ orderId: 'o-1', total: 12.5 });
  });

  it('a storage queue message: id, dequeue count as attempt; a failure is thrown for the host to retry', async () => {
    const f = published('azure', 'storage-queue.json');
    const { seen } = await azureBoth('reindex users', f.context, trigger.storageQueue({ queueName: 'jobs', connection: 'AzureWebJobsStorage' }));
    expect(seen[0]!.input).toBe('reindex users');
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'azure-storage-queue', queue: 'jobs', messageId: '5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f', attempt: 2, attributes: {}, batchIndex: 0, batchSize: 1 });
    const failed = await azureBoth({ fail: true }, f.context, trigger.storageQueue({ queueName: 'jobs', connection: 'AzureWebJobsStorage' }), failWhenAsked);
    expect(failed.outcome).toEqual({ error: 'INTERNAL' });
  });

  it('a timer without a schedule monitor (scheduleStatus null): a schedule tick named by the invocation', async () => {
    const f = published('azure', 'timer-no-monitor.json');
    const { seen } = await azureBoth(f.timer, f.context, trigger.timer({ schedule: '0 0 3 * * *' }));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'azure-timer', schedule: 'nightly', cron: '0 0 3 * * *', pastDue: false });
    expect(seen[0]!.ctx.deliveryId).toBe('dd44ee55-ff66-4077-8188-229900112233');
    expect(seen[0]!.input).toEqual({});
  });

  it('a Cosmos DB change feed batch: upserts keyed by id, _lsn as the sequence, stopped at the first failure', async () => {
    const f = published('azure', 'cosmos-latest.json');
    const options = trigger.cosmosDB({ connection: 'CosmosDB', databaseName: 'app', containerName: 'users', createLeaseContainerIfNotExists: true });
    const { seen, outcome } = await azureBoth(f.documents, f.context, options, (input) => {
      if ((input as Json).id === 'doc-1') throw new Error('down');
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'cosmosdb', collection: 'users', op: 'upsert', key: 'doc-1', sequence: '12', time: '2025-03-02T17:25:52.000Z' });
    expect(seen[0]!.ctx.deliveryId).toBe('CosmosDB/app/users/u0hEAMr3zlcBAAAAAAAAAA==@12');
    expect(outcome).toEqual({ error: 'INTERNAL' });
  });

  it('a Service Bus message: application properties as text attributes', async () => {
    const f = published('azure', 'service-bus-one.json');
    const { seen } = await azureBoth(f.message, f.context, trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus' }));
    expect(seen[0]!.input).toEqual({ orderId: 'o-5' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'azure-service-bus', queue: 'orders', messageId: '1e3', attempt: 1, attributes: { tenant: 'acme', priority: '5' } });
  });

  it('a trigger type the wrapper does not normalise runs as direct, its type named in a warn line', async () => {
    const { seen, fn } = recorder(() => ({ ok: true }));
    const { lines, logSink } = logs();
    const context = new InvocationContext({ invocationId: 'x-1', functionName: 'onSql', options: { trigger: { type: 'sqlTrigger', name: 'changes', direction: 'in' } as FunctionTrigger }, logHandler: () => undefined });
    const changes = [{ Operation: 0, Item: { id: 1 } }];
    expect(await handler({ logSink, logLevel: 'debug' }, fn)(changes, context)).toEqual({ ok: true });
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'azure', unrecognised: 'trigger type sqlTrigger' });
    expect(seen[0]!.input).toEqual(changes);
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ shape: 'trigger type sqlTrigger' });
  });
});

describe('Azure HTTP: ctx.principal from x-ms-client-principal (root and @steadyfn/handler/azure)', () => {
  const principalOf = async (file: string, trustIdentityHeaders: Array<'azure-app-service' | 'azure-static-web-apps'>) => {
    const f = published('azure', file);
    const seen: unknown[] = [];
    for (const make of [handler, azureHandler]) {
      const main = make({ logSink: () => undefined, trustIdentityHeaders }, (_input: unknown, ctx: Context) => void seen.push(ctx.principal ?? null));
      await main(new HttpRequest(structuredClone(f.request)), invocationContext(f.context, trigger.http({ methods: ['POST'], authLevel: 'anonymous' })));
    }
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    return seen[0];
  };

  // Microsoft Learn "Work with user identities in Azure App Service authentication".
  it('App Service authentication: id and provider from the -id/-idp headers, claims and role_typ roles from x-ms-client-principal', async () => {
    expect(await principalOf('http-easy-auth-roles.json', ['azure-app-service'])).toMatchObject({
      id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      issuer: 'aad',
      source: 'azure-app-service',
      claims: { preferred_username: 'robin@contoso.example', roles: ['Orders.Approve', 'Orders.Read'] },
      roles: ['Orders.Approve', 'Orders.Read'],
    });
    expect(await principalOf('http-easy-auth.json', ['azure-app-service'])).toMatchObject({ id: 'b7e2c9d4-1f3a-4e8b-a6c5-0d9e8f7a6b5c', claims: { name: 'Frankie' } });
  });

  // Microsoft Learn "Accessing user information in Azure Static Web Apps" ("API functions").
  it('Static Web Apps: userId, identityProvider, userRoles, userDetails — only under its own opt-in', async () => {
    expect(await principalOf('http-static-web-apps.json', ['azure-static-web-apps'])).toEqual({
      id: 'd41f7a9c02b84e6f93a1c5b7e8d20f64',
      issuer: 'github',
      source: 'azure-static-web-apps',
      claims: { userDetails: 'octo-dana' },
      roles: ['anonymous', 'authenticated', 'approver'],
    });
    expect(await principalOf('http-static-web-apps.json', ['azure-app-service'])).toBeNull();
  });
});

describe('OpenWhisk', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('__OW_')) delete process.env[k];
    Object.assign(process.env, saved);
  });

  /** Runs params as the runtime does (env set per activation) through the three entries. */
  async function owAll(params: Json, result: (input: unknown, ctx: Context) => unknown = () => undefined) {
    const runs: Array<{ seen: ReturnType<typeof recorder>['seen']; answer: unknown }> = [];
    for (const entry of ['explicit', 'root', 'openwhisk'] as const) {
      process.env.__OW_ACTIVATION_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      process.env.__OW_ACTION_NAME = '/guest/published';
      process.env.__OW_DEADLINE = String(Date.now() + 60_000);
      const { seen, fn } = recorder(result);
      const options = { logSink: () => undefined };
      const copy = structuredClone(params);
      const answer = entry === 'explicit' ? await handler(options, fn).openwhisk(copy) : entry === 'root' ? await handler(options, fn)(copy) : await owHandler(options, fn)(copy);
      runs.push({ seen, answer });
    }
    for (const run of runs.slice(1)) {
      expect(run.answer).toEqual(runs[0]!.answer);
      expect(run.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId, s.ctx.requestId])).toEqual(runs[0]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId, s.ctx.requestId]));
    }
    return runs[0]!;
  }

  it('a Kafka feed batch: null key left out, JSON value kept, text value as text; a failure is returned under error', async () => {
    const { seen, answer } = await owAll(published('openwhisk', 'kafka-feed.json'));
    expect(seen.map((s) => s.input)).toEqual([{ orderId: 'o-1' }, 'plain text']);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'stream', source: 'kafka', stream: 'orders', partition: '0', sequence: '248', attributes: { partition: '0', offset: '248' }, batchIndex: 0, batchSize: 2 });
    expect(seen[1]!.ctx.trigger).toMatchObject({ key: 'cust-7', attributes: { key: 'cust-7' } });
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['orders/0/248', 'orders/0/249']);
    expect(seen[0]!.ctx.requestId).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90:orders/0/248');
    expect(answer).toEqual({ processed: 2 });
    const failed = await owAll(published('openwhisk', 'kafka-feed.json'), (input) => {
      if (input === 'plain text') throw new Error('down');
    });
    expect(failed.answer).toMatchObject({ error: { code: 'INTERNAL', processed: 1, failed: [{ deliveryId: 'orders/0/249', code: 'INTERNAL', retryable: true }] } });
  });

  it('a Cloudant change: op from the revision, seq byte-exact, the id and rev to fetch by', async () => {
    const params = published('openwhisk', 'cloudant-change.json');
    const { seen, answer } = await owAll(params, () => 'indexed');
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'change', source: 'couchdb', collection: 'orders', op: 'update', key: 'o-9', sequence: params.seq, batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.input).toEqual({ _id: 'o-9', _rev: '3-5bb7e0d5c2d8a2b1f4e3c6d9a8b7c6d5' });
    expect(seen[0]!.ctx.deliveryId).toBe('orders/o-9@3-5bb7e0d5c2d8a2b1f4e3c6d9a8b7c6d5');
    expect(answer).toEqual({ result: 'indexed' });
  });

  it('an alarm fire with the schedule marker: a schedule tick, the marker removed from input', async () => {
    const { seen } = await owAll(published('openwhisk', 'alarm-fire.json'));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'ow-alarm', schedule: 'nightly' });
    expect(seen[0]!.input).toEqual({ name: 'Odin', place: 'Asgard' });
    expect(seen[0]!.ctx.requestId).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
  });
});

describe('OpenWhisk web action results, read as the controller reads them (WebActions.scala resultAsHttp)', () => {
  const web = (result: () => unknown) => handler({ logSink: () => undefined }, result).openwhisk(controllerParams({ method: 'GET', path: '/x' }, false));

  it('the controller refuses statuses outside its registry and non-integer codes; the adapter never hands it one', async () => {
    expect(() => controllerHttp({ statusCode: 299, body: 'x', headers: { 'content-type': 'text/plain' } })).toThrow(ControllerRefused);
    expect(() => controllerStatus('20x', 200)).toThrow(ControllerRefused);
    expect(() => controllerStatus(200.5, 200)).toThrow(ControllerRefused);
    expect(controllerStatus('201', 200)).toBe(201);
    const refused = (await web(() => httpResult({ status: 299, body: 'x' }))) as Json;
    expect(controllerHttp(refused).status).toBe(500);
    expect(JSON.parse(controllerHttp(refused).body.toString())).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
  });

  it('a decimal-text status is sent as the number the controller would read', async () => {
    const result = (await web(() => httpResult({ status: '201' as unknown as number, body: { ok: true } }))) as Json;
    expect(result.statusCode).toBe(201);
    expect(controllerHttp(result).status).toBe(201);
  });

  it('several values of a header and several cookies are one header line each', async () => {
    const result = (await web(() => httpResult({ headers: { link: ['</a>; rel=a', '</b>; rel=b'] }, cookies: ['a=1', 'b=2'], body: 'ok' }))) as Json;
    expect(controllerHeaders(result).filter(([n]) => n === 'link' || n === 'set-cookie')).toEqual([
      ['link', '</a>; rel=a'],
      ['link', '</b>; rel=b'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('binary bodies are base64 under their type, decoded by the controller to the same bytes; 5xx answers go under error', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const image = (await web(() => httpResult({ headers: { 'content-type': 'image/png' }, body: png }))) as Json;
    expect(controllerHttp(image).body.equals(png)).toBe(true);
    const failed = (await web(() => {
      throw new Error('down');
    })) as Json;
    expect(Object.keys(failed)).toEqual(['error']);
    expect(controllerHttp(failed).status).toBe(500);
  });
});
