/**
 * `key: 'input'` on Azure Functions and OpenWhisk Kafka messages hashes the body as the
 * provider delivered it (`ctx.trigger.rawBody`), so `{"id":9007199254740993}` and
 * `{"id":9007199254740992}` — one number once parsed — are two messages, and a redelivery is
 * a replay. Azure runs through the real `@azure/functions` programming model the way the
 * Node.js worker drives it (handler test/support/azure-worker.ts), with the host's RPC
 * invocations of packages/handler/test/fixtures/azure/published/rpc-*.json; OpenWhisk with the
 * Kafka feed samples of fixtures/openwhisk (see the SOURCES.md next to each). Records go to the
 * real Redis server.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { installAzureWorker } from '../../handler/test/support/azure-worker.js';
import { idempotency, messageBodyHash, scopeOf, storeKey } from '../src/index.js';
import { silentSink, useBackend, type Backend } from './support.js';

type Json = Record<string, any>;
const fixture = (path: string): Json => JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/${path}`, import.meta.url), 'utf8')) as Json;

const A = '{"id":9007199254740993}';
const B = '{"id":9007199254740992}';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

function make(store: Backend['store']) {
  const name = `body-key-${randomUUID()}`;
  const runs: unknown[] = [];
  const main = handler({ name, body: 'json', logSink: silentSink(), use: [idempotency({ store, namespace: name, key: 'input', ttlMs: 3_600_000, localCache: false })] }, (input) => {
    runs.push(input);
  });
  return { name, main, runs, keyOf: (body: string | Buffer) => storeKey(scopeOf(name), { kind: 'input', value: messageBodyHash(body) }) };
}

/** One Azure trigger: its RPC sample, and the same sample with another body (a new message) or again (a redelivery). */
interface AzureCase {
  file: string;
  /** The host's trigger metadata and trigger data for `body`; `redelivery`: the same message delivered again. */
  invocation(sample: Json, body: string, redelivery: boolean): { triggerMetadata: Json; triggerData: Json };
}

const json = (value: unknown): { json: string } => ({ json: JSON.stringify(value) });

const AZURE: AzureCase[] = [
  {
    file: 'rpc-service-bus-one.json',
    invocation(sample, body, redelivery) {
      // A new message has a new id; a redelivery keeps it and counts up.
      const id = body === A ? 'a1b2c3d4e5f60718293a4b5c6d7e8f90' : 'b1b2c3d4e5f60718293a4b5c6d7e8f90';
      return { triggerMetadata: { ...sample.triggerMetadata, MessageId: { string: id }, DeliveryCount: json(redelivery ? 2 : 1), LockToken: { string: randomUUID() } }, triggerData: { string: body } };
    },
  },
  {
    file: 'rpc-storage-queue.json',
    invocation(sample, body, redelivery) {
      const id = body === A ? '6d1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f' : '7e1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
      return {
        triggerMetadata: { ...sample.triggerMetadata, Id: { string: id }, DequeueCount: json(redelivery ? 2 : 1), PopReceipt: { string: randomUUID() }, QueueTrigger: { string: body } },
        triggerData: { string: body },
      };
    },
  },
  {
    file: 'rpc-event-hubs-many.json',
    invocation(sample, body) {
      // An Event Hubs redelivery is the same event (same sequence number) read again after a restart.
      const sequence = body === A ? 1207 : 1208;
      return {
        triggerMetadata: { ...sample.triggerMetadata, SequenceNumberArray: json([sequence]) },
        // cardinality 'many' without dataType: the host's Json.NET JSON of the parsed bodies.
        triggerData: { json: `[${body}]` },
      };
    },
  },
];

describe('key: input hashes the message body as delivered, on Redis (Azure Functions, OpenWhisk Kafka)', () => {
  const backend = useBackend('redis');

  it.each(AZURE)('Azure $file: two big-int messages both run; a redelivery of each is a replay', async ({ file, invocation }) => {
    const sample = fixture(`azure/published/${file}`);
    const { name, main, runs, keyOf } = make(backend.store);
    const { app } = await import('@azure/functions');
    const register = app[sample.function.trigger as 'serviceBusQueue'] as (name: string, options: Json) => void;
    const fn = `${sample.function.name}-${name}`;
    register(fn, { ...sample.function.options, handler: main.azure });
    let n = 0;
    const deliver = async (body: string, redelivery: boolean): Promise<void> => {
      const { triggerMetadata, triggerData } = invocation(sample, body, redelivery);
      await worker.invoke(fn, `${name}-${n++}`, triggerMetadata, triggerData);
    };
    await deliver(A, false);
    await deliver(B, false);
    // The library handed the function the same rounded number twice; both messages still ran.
    expect(runs).toEqual([{ id: 9007199254740992 }, { id: 9007199254740992 }]);
    await deliver(A, true);
    await deliver(B, true);
    expect(runs).toHaveLength(2);
    const [a, b] = await Promise.all([backend.store.get(keyOf(A)), backend.store.get(keyOf(B))]);
    expect(a?.status).toBe('completed');
    expect(b?.status).toBe('completed');
  });

  const KAFKA = [
    { name: 'text values (kafka-text.json)', file: 'openwhisk/kafka-text.json', encode: (body: string) => body, raw: (body: string): string | Buffer => body },
    {
      name: 'isBinaryValue (kafka-binary.json)',
      file: 'openwhisk/kafka-binary.json',
      // The feed's Python 2 `encode("base64")`: 76-column lines, trailing newline stripped.
      encode: (body: string) => Buffer.from(body, 'utf8').toString('base64').replace(/(.{76})/g, '$1\n'),
      raw: (body: string): string | Buffer => Buffer.from(body, 'utf8'),
    },
  ];

  it.each(KAFKA)('OpenWhisk Kafka feed, $name: two big-int messages both run; the batch fired again is a replay', async ({ file, encode, raw }) => {
    const sample = fixture(file);
    const { main, runs, keyOf } = make(backend.store);
    const message = sample.messages[0];
    const batch = (): Json => ({ ...sample, messages: [{ ...message, offset: 900, value: encode(A) }, { ...message, offset: 901, value: encode(B) }] });
    expect(await main.openwhisk(batch())).toEqual({ processed: 2 });
    expect(runs).toHaveLength(2);
    // The feed re-fires the batch when the trigger post failed after the action ran.
    expect(await main.openwhisk(batch())).toEqual({ processed: 2 });
    expect(runs).toHaveLength(2);
    const [a, b] = await Promise.all([backend.store.get(keyOf(raw(A))), backend.store.get(keyOf(raw(B)))]);
    expect(a?.status).toBe('completed');
    expect(b?.status).toBe('completed');
  });

  it('OpenWhisk Kafka feed with isJSONData: the value arrives parsed, so the two bodies share one key (documented)', async () => {
    const sample = fixture('openwhisk/kafka-json.json');
    const { main, runs } = make(backend.store);
    const message = sample.messages[0];
    await main.openwhisk({ messages: [{ ...message, offset: 1, value: JSON.parse(A) }] });
    await main.openwhisk({ messages: [{ ...message, offset: 2, value: JSON.parse(B) }] });
    expect(runs).toHaveLength(1);
  });
});
