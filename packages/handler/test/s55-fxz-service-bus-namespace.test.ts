/**
 * s55-fxz (review rve): a Service Bus delivery id was `<queue>#<SequenceNumber>`, but sequence
 * numbers count from 1 in each queue or subscription of every namespace (Azure/azure-service-bus#465):
 * two namespaces' `orders` queues — one function app reading both, or two apps sharing one
 * idempotency store — gave their first messages one id, `orders#1`. The id now names the
 * namespace the trigger's `connection` settings point at (`<connection>__fullyQualifiedNamespace`
 * for an identity-based connection, else `Endpoint=sb://<host>/` of the connection string), and
 * the message's `EnqueuedTimeUtc` is `ctx.trigger.time` (idempotency keys a reused sequence
 * number with it: idempotency/test/s55-fxz-service-bus-reused-sequence.test.ts).
 *
 * Through the real `@azure/functions` programming model as the Node.js worker drives it
 * (support/azure-worker.ts), with the host's RPC sample test/fixtures/azure/published/rpc-service-bus-one.json.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import { published } from './support/published.js';
import { serviceBusNamespace } from '../src/providers/azure-messages.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
const SETTINGS: Record<string, string> = {
  S55_SB_EAST: 'Endpoint=sb://contoso-eastus.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=not-a-real-key=',
  S55_SB_WEST: 'Endpoint=sb://Contoso-WestUS.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=not-a-real-key=',
  S55_SB_IDENTITY__fullyQualifiedNamespace: 'contoso-identity.servicebus.windows.net',
};
for (const [name, value] of Object.entries(SETTINGS)) process.env[name] = value;
afterAll(() => {
  for (const name of Object.keys(SETTINGS)) delete process.env[name];
  worker.uninstall();
});

const json = (value: unknown) => ({ json: JSON.stringify(value) });

/** The sample's function registered as `name`, reading its queue through the connection setting `connection`. */
async function registered(name: string, connection: string, extra: Record<string, unknown> = {}): Promise<Context[]> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const sample = published('azure', 'rpc-service-bus-one.json');
  const seen: Context[] = [];
  const main = handler({ body: 'json', logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
  app.serviceBusQueue(name, { ...sample.function.options, connection, ...extra, handler: main.azure as never });
  return seen;
}

/** The sample message with sequence number 1, enqueued at `enqueued`. */
function deliver(fn: string, n: number, enqueued: string): Promise<unknown> {
  const sample = published('azure', 'rpc-service-bus-one.json');
  return worker.invoke(fn, `${fn}-${n}`, { ...sample.triggerMetadata, SequenceNumber: json(1), EnqueuedTimeUtc: json(enqueued) }, sample.triggerData);
}

describe('Service Bus delivery id: scoped by the namespace', () => {
  it('two namespaces, one queue name, sequence number 1 in each: two delivery ids', async () => {
    const east = await registered('s55-east', 'S55_SB_EAST');
    const west = await registered('s55-west', 'S55_SB_WEST');
    const identity = await registered('s55-identity', 'S55_SB_IDENTITY');
    await deliver('s55-east', 0, '2026-12-01T10:00:00Z');
    await deliver('s55-west', 0, '2026-12-01T10:00:00Z');
    await deliver('s55-identity', 0, '2026-12-01T10:00:00Z');
    expect([...east, ...west, ...identity].map((ctx) => ctx.deliveryId)).toEqual([
      'contoso-eastus.servicebus.windows.net/orders#1',
      'contoso-westus.servicebus.windows.net/orders#1',
      'contoso-identity.servicebus.windows.net/orders#1',
    ]);
  });

  it('a topic subscription: <namespace>/<topic>/<subscription>#<n>', async () => {
    const { app } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    const seen: Context[] = [];
    const main = handler({ body: 'json', logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    app.serviceBusTopic('s55-topic', { connection: 'S55_SB_EAST', topicName: 'orders', subscriptionName: 'billing', handler: main.azure as never });
    await deliver('s55-topic', 0, '2026-12-01T10:00:00Z');
    expect(seen[0]!.deliveryId).toBe('contoso-eastus.servicebus.windows.net/orders/billing#1');
  });

  it('EnqueuedTimeUtc is trigger.time, the same on a redelivery; a connection naming no namespace keeps <queue>#<n>', async () => {
    const seen = await registered('s55-unset', 'S55_SB_NOT_SET');
    await deliver('s55-unset', 0, '2026-12-01T10:00:00Z');
    await deliver('s55-unset', 1, '2026-12-01T10:00:00Z');
    await deliver('s55-unset', 2, '2026-12-02T08:00:00.1234567Z');
    expect(seen.map((ctx) => [ctx.deliveryId, ctx.trigger.kind === 'queue' ? ctx.trigger.time : 'not a queue'])).toEqual([
      ['orders#1', '2026-12-01T10:00:00Z'],
      ['orders#1', '2026-12-01T10:00:00Z'],
      ['orders#1', '2026-12-02T08:00:00.1234567Z'],
    ]);
  });
});

describe('serviceBusNamespace', () => {
  it('reads the namespace from the settings, never the key; the default connection AzureWebJobsServiceBus', () => {
    const env = {
      A: 'Endpoint=sb://a.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=secret',
      B: ' SharedAccessKeyName=k; endpoint = sb://B.servicebus.windows.net ;SharedAccessKey=secret',
      C__fullyQualifiedNamespace: 'c.servicebus.windows.net/',
      D: 'UseDevelopmentEmulator=true;SharedAccessKey=secret',
      AzureWebJobsServiceBus: 'Endpoint=sb://default.servicebus.windows.net/;SharedAccessKey=secret',
    };
    expect(serviceBusNamespace('A', env)).toBe('a.servicebus.windows.net');
    expect(serviceBusNamespace('B', env)).toBe('b.servicebus.windows.net');
    expect(serviceBusNamespace('C', env)).toBe('c.servicebus.windows.net');
    expect(serviceBusNamespace('D', env)).toBeUndefined();
    expect(serviceBusNamespace('E', env)).toBeUndefined();
    expect(serviceBusNamespace(undefined, env)).toBe('default.servicebus.windows.net');
  });
});
