/**
 * Review (`rvi`), replaying knative/eventing-contrib#1205 ("Kafka event source IDs may not be
 * unique"): a Knative KafkaSource sends each Kafka record as a CloudEvent whose `id` is its
 * position, `partition:<P>/offset:<O>`, under the `source`
 * `/apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>`. Offsets are handed out again (a topic
 * recreated, a partition truncated), and keyed by `<source>#<id>` alone a NEW record at a seen
 * offset within `ttlMs` was answered with the old record's replay — 204, the function never run,
 * nothing logged. Now such an event is keyed with its `time` (the record's timestamp) and
 * fingerprinted by its data, as a Kafka stream record is. Through the real Functions Framework
 * (`functions.cloudEvent`, binary content mode), on Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { handler, type Trigger } from '@steadyfn/handler';
import { closeServers, serve } from '../../handler/test/support/gcp-server.js';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { KNATIVE_KAFKA_EVENT, isReusablePosition, positionKey } from '../src/stream-position.js';
import { useBackend } from './support.js';

afterAll(closeServers);

const T0 = '2026-12-01T10:00:00.123Z';
const LATER = '2026-12-03T08:30:00.456Z';

describe('a Knative KafkaSource CloudEvent at a reused offset (Redis)', () => {
  const backend = useBackend('redis');

  /** A CloudEvent function keyed `'auto'` (a `leaseMs`: a Functions Framework call gives no deadline): what ran, and the code of every warning or error it logged. */
  async function consumer() {
    const seen: unknown[] = [];
    const codes: string[] = [];
    const name = `knative-${randomUUID().slice(0, 8)}`;
    const main = handler(
      { name, logLevel: 'warn', logSink: (line) => void codes.push(String((JSON.parse(line) as { code?: unknown }).code ?? '')), use: [idempotency({ store: backend.store, ttlMs: 86_400_000, leaseMs: 60_000, localCache: false })] },
      async (input) => void seen.push(input),
    );
    const url = await serve('cloudEvent', main);
    // Each consumer its own KafkaSource, so two tests never share a delivery id.
    const source = `/apis/v1/namespaces/default/kafkasources/${name}#orders`;
    /** Posts the record at partition 0, offset 7, as KafkaSource does (binary mode); resolves to the status. */
    const post = async (data: object, time: string | undefined): Promise<number> => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'partition:0/offset:7',
        'ce-source': source,
        'ce-type': 'dev.knative.kafka.event',
        'ce-subject': 'partition:0#7',
        ...(time === undefined ? {} : { 'ce-time': time }),
      };
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(data) });
      await res.arrayBuffer();
      return res.status;
    };
    return { post, seen, codes, name, source };
  }

  it('a redelivery (same id and time) replays; a new record at the same offset with a later time runs', async () => {
    const { post, seen, codes } = await consumer();
    expect(await post({ order: 'o-1' }, T0)).toBe(204);
    expect(await post({ order: 'o-1' }, T0)).toBe(204);
    expect(seen).toEqual([{ order: 'o-1' }]);
    expect(await post({ order: 'o-2' }, LATER)).toBe(204);
    expect(seen).toEqual([{ order: 'o-1' }, { order: 'o-2' }]);
    expect(await post({ order: 'o-2' }, LATER)).toBe(204);
    expect(seen).toEqual([{ order: 'o-1' }, { order: 'o-2' }]);
    expect(codes).toEqual([]);
  });

  it.each([T0, undefined])('the same offset and time (%s) with other data is IDEMPOTENCY_KEY_REUSED (an error the sender retries, logged), never a silent replay', async (time) => {
    const { post, seen, codes } = await consumer();
    expect(await post({ order: 'o-1' }, time)).toBe(204);
    expect(await post({ order: 'o-2' }, time)).toBe(500);
    expect(seen).toEqual([{ order: 'o-1' }]);
    expect(codes).toContain('IDEMPOTENCY_KEY_REUSED');
    // The first record redelivered still replays.
    expect(await post({ order: 'o-1' }, time)).toBe(204);
    expect(seen).toEqual([{ order: 'o-1' }]);
  });

  it('without a time, a record an earlier version wrote under the same key (fingerprint delivery) still replays', async () => {
    const { post, seen, codes, name, source } = await consumer();
    const key = storeKey(scopeOf(name), { kind: 'delivery', value: `${source}#partition:0/offset:7` });
    const owner = randomUUID();
    await backend.store.claim({ key, owner, fingerprint: 'delivery', leaseUntil: Date.now() + 30_000 });
    await backend.store.complete({ key, owner, fingerprint: 'delivery', result: JSON.stringify({ k: 'v' }), expiresAt: Date.now() + 60_000 });
    expect(await post({ order: 'o-1' }, undefined)).toBe(204);
    expect(seen).toEqual([]);
    expect(codes).toEqual([]);
  });
});

describe('which CloudEvents are reusable positions', () => {
  const event = (type: string, time?: string): Trigger => ({ kind: 'event', source: 'cloudevent', type, eventSource: '/apis/v1/namespaces/default/kafkasources/src#orders', id: 'partition:0/offset:7', ...(time ? { time } : {}) });

  it('a Knative KafkaSource event only, keyed with its time normalised; any other CloudEvent keeps its key', () => {
    const knative = event(KNATIVE_KAFKA_EVENT, '2026-12-01T11:00:00.123+01:00');
    expect(isReusablePosition(knative)).toBe(true);
    expect(isReusablePosition(event('com.example.order.created', T0))).toBe(false);
    expect(isReusablePosition(event('google.cloud.storage.object.v1.finalized', T0))).toBe(false);
    if (!isReusablePosition(knative)) throw new Error('unreachable');
    expect(positionKey('s#partition:0/offset:7', knative)).toBe(`s#partition:0/offset:7\0${T0}`);
  });
});
