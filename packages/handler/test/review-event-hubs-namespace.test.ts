/**
 * Review finding (rvh, left from s50): the Event Hubs delivery id `hub/partition/sequenceNumber`
 * named no namespace, so one function reading two namespaces' hubs of one name (`readings` in
 * a staging and a production namespace, or after a failover) gave two events one id, and
 * idempotency replayed the second as the first. The host names the namespace in the trigger
 * metadata's `PartitionContext` (`FullyQualifiedNamespace`; Azure docs "Azure Event Hubs
 * trigger", event metadata — test/fixtures/azure/published/rpc-event-hubs-many.json, and the
 * v4 model's `partitionContext.fullyQualifiedNamespace` in test/fixtures/azure/event-hubs-batch.json).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { installAzureWorker } from './support/azure-worker.js';
import { azureBoth } from './support/azure.js';
import { published } from './support/published.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const options = trigger.eventHub({ eventHubName: 'readings', connection: 'EventHubConnection', cardinality: 'many' });

describe('Event Hubs delivery id: scoped by the namespace', () => {
  it('one hub name, partition and sequence number in two namespaces: two delivery ids', async () => {
    const f = published('azure', '../event-hubs-batch.json');
    const ids: Array<string | undefined> = [];
    for (const namespace of ['staging.servicebus.windows.net', 'prod.servicebus.windows.net']) {
      const meta = structuredClone(f.context.triggerMetadata);
      meta.partitionContext.fullyQualifiedNamespace = namespace;
      const { seen } = await azureBoth(f.events, { ...f.context, triggerMetadata: meta }, options);
      ids.push(seen[0]!.ctx.deliveryId);
    }
    expect(ids).toEqual(['staging.servicebus.windows.net/readings/3/1207', 'prod.servicebus.windows.net/readings/3/1207']);
  });

  it('no namespace in the partition context (an older extension, a hand-built context): hub/partition/sequence as before', async () => {
    const f = published('azure', '../event-hubs-batch.json');
    const meta = structuredClone(f.context.triggerMetadata);
    delete meta.partitionContext.fullyQualifiedNamespace;
    const { seen } = await azureBoth(f.events, { ...f.context, triggerMetadata: meta }, options);
    expect(seen[0]!.ctx.deliveryId).toBe('readings/3/1207');
  });

  it('the host RPC data (published shape): the namespace from PartitionContext', async () => {
    const { app } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    const seen: Context[] = [];
    app.eventHub('ns-many', { connection: 'EventHubConnection', eventHubName: 'readings', cardinality: 'many', handler: handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)) as never });
    const f = published('azure', 'rpc-event-hubs-many.json');
    await worker.invoke('ns-many', 'inv-ns-1', f.triggerMetadata, f.triggerData);
    expect(seen.map((c) => c.deliveryId)).toEqual(['contoso.servicebus.windows.net/readings/3/1207']);
  });
});
