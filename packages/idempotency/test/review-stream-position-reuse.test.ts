/**
 * Under `key: 'auto'` a Kafka record is keyed by its position (`<cluster>/topic/partition/offset`)
 * and an Event Hubs event by `hub/partition/sequenceNumber`. Positions are reused — a topic or
 * hub deleted and recreated, an unclean leader election that truncates a partition, a broker
 * reset — so a NEW record at a seen position used to get the old record's result within `ttlMs`:
 * the function never ran, nothing was logged (noelwschneider/kafka-portfolio-project#27/#29).
 * Now the record's time is part of its key (a redelivered record keeps its timestamp, a reused
 * offset does not), and its payload as delivered is its fingerprint: the same position and time
 * with other bytes is a visible `IDEMPOTENCY_KEY_REUSED`, never a silent replay. A redelivery
 * (same position, time and bytes) still runs once. Real stores: Redis, the Cluster, FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { installAzureWorker } from '../../handler/test/support/azure-worker.js';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { BACKENDS, lambdaContext, silentSink, useBackend } from './support.js';

type Json = Record<string, any>;

const T0 = Date.parse('2026-12-01T10:00:00.123Z');

/** A self-managed Kafka event from Lambda: one record at `offset` of `orders-0`. */
const kafkaEvent = (value: object, options: { offset?: number; timestamp?: number | null } = {}) => ({
  eventSource: 'SelfManagedKafka',
  bootstrapServers: 'kafka-1.internal:9092',
  records: {
    'orders-0': [
      {
        topic: 'orders',
        partition: 0,
        offset: options.offset ?? 0,
        ...(options.timestamp === null ? {} : { timestamp: options.timestamp ?? T0, timestampType: 'CREATE_TIME' }),
        key: null,
        value: Buffer.from(JSON.stringify(value)).toString('base64'),
        headers: [],
      },
    ],
  },
});

/** A handler that records what ran and the code of every warning or error it logged. */
function consumer(store: Parameters<typeof idempotency>[0]['store']) {
  const seen: unknown[] = [];
  const codes: string[] = [];
  const name = `k-${randomUUID().slice(0, 8)}`;
  const main = handler(
    { name, body: 'json', logLevel: 'warn', logSink: (line) => void codes.push(String((JSON.parse(line) as { code?: unknown }).code ?? '')), use: [idempotency({ store, ttlMs: 86_400_000, localCache: false })] },
    async (input) => {
      seen.push(input);
      return { ok: true };
    },
  );
  return { main, seen, codes, name };
}

describe.each(BACKENDS)('a reused stream position (%s)', (backendName) => {
  const backend = useBackend(backendName);

  it('Kafka on Lambda: a new record at a seen offset (topic recreated) runs', async () => {
    const seen: unknown[] = [];
    const main = handler({ name: `k-${randomUUID().slice(0, 8)}`, body: 'json', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 86_400_000, localCache: false })] }, async (input) => {
      seen.push(input);
      return { ok: true };
    });
    await main.aws(kafkaEvent({ orderId: 'A-1', amount: 10 }, { timestamp: Date.now() }), lambdaContext());
    await main.aws(kafkaEvent({ orderId: 'B-7', amount: 99 }, { timestamp: Date.now() + 1 }), lambdaContext()); // topic recreated: offset 0 again
    expect(seen).toEqual([{ orderId: 'A-1', amount: 10 }, { orderId: 'B-7', amount: 99 }]);
  });

  it('Kafka on Lambda: the same record redelivered (same timestamp, same bytes) still runs once', async () => {
    const { main, seen } = consumer(backend.store);
    for (let i = 0; i < 3; i++) await main.aws(kafkaEvent({ orderId: 'A-1', amount: 10 }), lambdaContext());
    expect(seen).toEqual([{ orderId: 'A-1', amount: 10 }]);
  });

  it('Kafka on Lambda: the same offset and timestamp with other bytes is IDEMPOTENCY_KEY_REUSED, not a silent replay', async () => {
    const { main, seen, codes } = consumer(backend.store);
    await main.aws(kafkaEvent({ orderId: 'A-1', amount: 10 }), lambdaContext());
    await main.aws(kafkaEvent({ orderId: 'B-7', amount: 99 }), lambdaContext()).catch(() => undefined);
    expect(seen).toEqual([{ orderId: 'A-1', amount: 10 }]);
    expect(codes).toContain('IDEMPOTENCY_KEY_REUSED');
  });

  it('Kafka on Lambda without a timestamp: other bytes at a seen offset are IDEMPOTENCY_KEY_REUSED; the same bytes replay', async () => {
    const { main, seen, codes } = consumer(backend.store);
    await main.aws(kafkaEvent({ orderId: 'A-1' }, { timestamp: null }), lambdaContext());
    await main.aws(kafkaEvent({ orderId: 'A-1' }, { timestamp: null }), lambdaContext());
    expect(codes).not.toContain('IDEMPOTENCY_KEY_REUSED');
    await main.aws(kafkaEvent({ orderId: 'B-7' }, { timestamp: null }), lambdaContext()).catch(() => undefined);
    expect(seen).toEqual([{ orderId: 'A-1' }]);
    expect(codes).toContain('IDEMPOTENCY_KEY_REUSED');
  });

  it('a record written before the upgrade (fingerprint "delivery") under an unchanged key still replays', async () => {
    // The OpenWhisk Kafka feed carries no record time, so its key is the position as before.
    const { main, seen, name } = consumer(backend.store);
    const key = storeKey(scopeOf(name), { kind: 'delivery', value: 'orders/0/5' });
    const owner = randomUUID();
    await backend.store.claim({ key, owner, fingerprint: 'delivery', leaseUntil: Date.now() + 30_000 });
    await backend.store.complete({ key, owner, fingerprint: 'delivery', result: JSON.stringify({ k: 'v', v: { ok: true } }), expiresAt: Date.now() + 60_000 });
    expect(await main.openwhisk({ messages: [{ topic: 'orders', partition: 0, offset: 5, key: null, value: '{"orderId":"A-1"}' }] })).toMatchObject({ processed: 1 });
    expect(seen).toEqual([]);
  });

  it('OpenWhisk Kafka feed: other bytes at a seen offset are IDEMPOTENCY_KEY_REUSED; with isJSONData the parsed value is compared', async () => {
    for (const [a, b] of [['{"orderId":"A-1"}', '{"orderId":"B-7"}'], [{ orderId: 'A-1' }, { orderId: 'B-7' }]] as const) {
      const { main, seen, codes } = consumer(backend.store);
      const at = (value: unknown) => ({ messages: [{ topic: 'orders', partition: 0, offset: 7, key: null, value }] });
      await main.openwhisk(at(a));
      await main.openwhisk(at(a));
      expect(seen).toEqual([{ orderId: 'A-1' }]);
      await main.openwhisk(at(b)).catch(() => undefined);
      expect(seen).toEqual([{ orderId: 'A-1' }]);
      expect(codes).toContain('IDEMPOTENCY_KEY_REUSED');
    }
  });
});

describe('a reused Event Hubs sequence number (Azure worker, Redis)', () => {
  const backend = useBackend('redis');
  const worker = installAzureWorker();
  afterAll(() => worker.uninstall());
  const fixture = (path: string): Json => JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/${path}`, import.meta.url), 'utf8')) as Json;
  const json = (value: unknown): { json: string } => ({ json: JSON.stringify(value) });

  it('a new event at a seen sequence number (hub recreated) runs; the same event read again is a replay', async () => {
    const sample = fixture('azure/published/rpc-event-hubs-many.json');
    const { main, seen, name } = consumer(backend.store);
    const { app } = await import('@azure/functions');
    const fn = `${sample.function.name}-${name}`;
    app.eventHub(fn, { ...sample.function.options, handler: main.azure });
    let n = 0;
    const deliver = (body: object, enqueued: string) =>
      worker.invoke(fn, `${name}-${n++}`, { ...sample.triggerMetadata, SequenceNumberArray: json([1207]), EnqueuedTimeUtcArray: json([enqueued]) }, { json: JSON.stringify([body]) });
    await deliver({ deviceId: 'd-1', temperature: 21.5 }, '2026-12-01T10:00:00Z');
    await deliver({ deviceId: 'd-1', temperature: 21.5 }, '2026-12-01T10:00:00Z'); // read again after a restart
    await deliver({ deviceId: 'd-9', temperature: 3 }, '2026-12-02T08:00:00Z'); // the hub recreated: 1207 again
    expect(seen).toEqual([{ deviceId: 'd-1', temperature: 21.5 }, { deviceId: 'd-9', temperature: 3 }]);
  });
});
