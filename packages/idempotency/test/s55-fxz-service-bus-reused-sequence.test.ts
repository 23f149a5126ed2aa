/**
 * s55-fxz (review rve): a Service Bus message was keyed by `<queue>#<SequenceNumber>` alone. A
 * sequence number counts from 1 in each queue or subscription (Azure/azure-service-bus#465,
 * azure-service-bus-java#227), starts over when the queue is recreated, and after a geo-DR
 * failover the alias reads another namespace's queue with numbers of its own
 * (Azure/azure-service-bus#646). A NEW message at a seen number was answered with the old
 * message's replay within `ttlMs`: the function never ran, nothing was logged. Now, as for a
 * Kafka offset or an Event Hubs sequence number (stream-position.ts), the key holds the
 * message's `EnqueuedTimeUtc` (the same on every redelivery) and the body as delivered is the
 * fingerprint; the delivery id names the namespace (handler test/s55-fxz-service-bus-namespace.test.ts).
 *
 * Through the real `@azure/functions` programming model as the Node.js worker drives it, with
 * the host's RPC sample handler/test/fixtures/azure/published/rpc-service-bus-one.json; records
 * in the real Redis server.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { installAzureWorker } from '../../handler/test/support/azure-worker.js';
import { idempotency } from '../src/index.js';
import { useBackend } from './support.js';

type Json = Record<string, any>;

const worker = installAzureWorker();
const SETTINGS: Record<string, string> = {
  S55_IDEM_EAST: 'Endpoint=sb://contoso-eastus.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=not-a-real-key=',
  S55_IDEM_WEST: 'Endpoint=sb://contoso-westus.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=not-a-real-key=',
};
for (const [name, value] of Object.entries(SETTINGS)) process.env[name] = value;
afterAll(() => {
  for (const name of Object.keys(SETTINGS)) delete process.env[name];
  worker.uninstall();
});

const sample = JSON.parse(readFileSync(new URL('../../handler/test/fixtures/azure/published/rpc-service-bus-one.json', import.meta.url), 'utf8')) as Json;
const json = (value: unknown): { json: string } => ({ json: JSON.stringify(value) });

describe('a reused Service Bus sequence number (Azure worker, Redis)', () => {
  const backend = useBackend('redis');

  /** The sample's function on `connection`, its idempotency records under `namespace`: what ran, the code of each warning, and a way to deliver. */
  async function consumer(namespace: string, connection = sample.function.options.connection as string) {
    const seen: unknown[] = [];
    const codes: string[] = [];
    const name = `sb-${randomUUID().slice(0, 8)}`;
    const main = handler(
      {
        name,
        body: 'json',
        logLevel: 'warn',
        logSink: (line) => void codes.push(String((JSON.parse(line) as { code?: unknown }).code ?? '')),
        use: [idempotency({ store: backend.store, namespace, ttlMs: 86_400_000, localCache: false })],
      },
      async (input) => {
        seen.push(input);
        return { ok: true };
      },
    );
    const { app } = await import('@azure/functions');
    const fn = `${sample.function.name}-${name}`;
    app.serviceBusQueue(fn, { ...sample.function.options, connection, handler: main.azure });
    let n = 0;
    const deliver = (id: string, enqueued: string, body: object) =>
      worker.invoke(
        fn,
        `${name}-${n++}`,
        { ...sample.triggerMetadata, MessageId: { string: id }, EnqueuedTimeUtc: json(enqueued), SequenceNumber: json(1), LockToken: { string: randomUUID() } },
        { string: JSON.stringify(body) },
      );
    return { seen, codes, deliver };
  }

  it('a new message at a seen sequence number (queue recreated) runs; the same message redelivered is a replay', async () => {
    const { seen, deliver } = await consumer(`sb-${randomUUID()}`);
    await deliver('a1', '2026-12-01T10:00:00Z', { orderId: 'o-1' });
    await deliver('a1', '2026-12-01T10:00:00Z', { orderId: 'o-1' }); // redelivery: replays
    await deliver('b7', '2026-12-02T08:00:00Z', { orderId: 'o-77' }); // queue recreated: sequence 1 again
    expect(seen).toEqual([{ orderId: 'o-1' }, { orderId: 'o-77' }]);
  });

  it('the same sequence number and enqueue time with another body is IDEMPOTENCY_KEY_REUSED, not a silent replay', async () => {
    const { seen, codes, deliver } = await consumer(`sb-${randomUUID()}`);
    await deliver('a1', '2026-12-01T10:00:00Z', { orderId: 'o-1' });
    await deliver('c3', '2026-12-01T10:00:00Z', { orderId: 'o-3' }).catch(() => undefined);
    expect(seen).toEqual([{ orderId: 'o-1' }]);
    expect(codes).toContain('IDEMPOTENCY_KEY_REUSED');
  });

  it('two namespaces sharing one store: their queues\u2019 first messages (sequence 1, one enqueue time) both run', async () => {
    const namespace = `sb-${randomUUID()}`;
    const east = await consumer(namespace, 'S55_IDEM_EAST');
    const west = await consumer(namespace, 'S55_IDEM_WEST');
    await east.deliver('e1', '2026-12-01T10:00:00Z', { orderId: 'east-1' });
    await west.deliver('w1', '2026-12-01T10:00:00Z', { orderId: 'west-1' });
    expect([...east.seen, ...west.seen]).toEqual([{ orderId: 'east-1' }, { orderId: 'west-1' }]);
    expect(west.codes).not.toContain('IDEMPOTENCY_KEY_REUSED');
  });
});
