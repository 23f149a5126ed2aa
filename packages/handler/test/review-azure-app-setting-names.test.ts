/**
 * Review finding (rvp): a binding option may name an app setting in percent signs
 * (`queueName: '%ORDERS_QUEUE%'`), which the host resolves (Azure docs "Azure Functions binding
 * expression patterns", app settings); `context.options.trigger` keeps the text as registered.
 * The Service Bus delivery id `<queue>#<SequenceNumber>` was `%ORDERS_QUEUE%#5`, so two apps or
 * slots reading different queues with one setting name, sharing an idempotency or inbox store,
 * collided (sequence numbers start at 1 per queue) and a message was skipped as a replay. The
 * same for `topicName` / `subscriptionName` and the Cosmos DB `databaseName` / `containerName`.
 * Each `%NAME%` is now the app setting (an environment variable; `A:B` is `A__B` there).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { installAzureWorker } from './support/azure-worker.js';
import { azureBoth } from './support/azure.js';
import { resolveAppSettings } from '../src/providers/azure-app-settings.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
const settings = { RVP_ORDERS_QUEUE: 'orders-prod', RVP_TOPIC: 'events', RVP_SUB__NAME: 'billing', RVP_DB: 'shop', RVP_CONTAINER: 'orders', RVP_SCHEDULE: '0 0 3 * * *' };
Object.assign(process.env, settings);
afterAll(() => {
  worker.uninstall();
  for (const name of Object.keys(settings)) delete process.env[name];
});

const metadata = { MessageId: { string: 'm-1' }, DeliveryCount: { int: 1 }, SequenceNumber: { int: 5 } };

async function recorded(register: (main: unknown) => void): Promise<Context[]> {
  const { handler } = await import('../src/index.js');
  const seen: Context[] = [];
  register(handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)));
  return seen;
}

describe('Azure: %Setting% names in binding options are the settings\u2019 values', () => {
  it('Service Bus queue: the delivery id and trigger.queue use the resolved queue name', async () => {
    const { app } = await import('@azure/functions');
    const seen = await recorded((main) => app.serviceBusQueue('rvp-sb', { connection: 'ServiceBusConnection', queueName: '%RVP_ORDERS_QUEUE%', handler: main as never }));
    await worker.invoke('rvp-sb', 'inv-1', metadata, { string: '{"n":1}' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.deliveryId).toBe('orders-prod#5');
    expect(seen[0]!.trigger).toMatchObject({ kind: 'queue', queue: 'orders-prod' });
  });

  it('Service Bus topic: topic and subscription resolved, a `:` in a name read as `__`', async () => {
    const { app } = await import('@azure/functions');
    const seen = await recorded((main) =>
      app.serviceBusTopic('rvp-topic', { connection: 'ServiceBusConnection', topicName: '%RVP_TOPIC%', subscriptionName: '%RVP_SUB:NAME%', handler: main as never }),
    );
    await worker.invoke('rvp-topic', 'inv-2', metadata, { string: '{"n":1}' });
    expect(seen[0]!.deliveryId).toBe('events/billing#5');
  });

  it('Cosmos DB: database and container resolved in the delivery id', async () => {
    const options = trigger.cosmosDB({ connection: 'CosmosDB', databaseName: '%RVP_DB%', containerName: '%RVP_CONTAINER%' });
    const doc = { id: 'o-1', _rid: 'Jm0hAJ3Ep7YBAAAAAAAAAA==', _ts: 1735689500, _lsn: 42 };
    const { seen } = await azureBoth([doc], { invocationId: 'inv-3', functionName: 'onOrders', triggerMetadata: {} }, options);
    expect(seen[0]!.ctx.deliveryId).toBe('CosmosDB/shop/orders/Jm0hAJ3Ep7YBAAAAAAAAAA==@42');
  });

  it('timer: a %Setting% schedule is its NCRONTAB expression', async () => {
    const { app } = await import('@azure/functions');
    const seen = await recorded((main) => app.timer('rvp-timer', { schedule: '%RVP_SCHEDULE%', handler: main as never }));
    await worker.invoke('rvp-timer', 'inv-4', {}, { json: JSON.stringify({ isPastDue: false, scheduleStatus: {} }) });
    expect(seen[0]!.trigger).toMatchObject({ kind: 'schedule', cron: '0 0 3 * * *' });
  });

  it('a setting that is not set, and text around references, are kept as written', () => {
    const env = { A: 'x', 'B:C': 'colon' };
    expect(resolveAppSettings('%MISSING%', env)).toBe('%MISSING%');
    expect(resolveAppSettings('pre-%A%-%B:C%-100%', env)).toBe('pre-x-colon-100%');
    expect(resolveAppSettings('orders', env)).toBe('orders');
  });
});
