/**
 * `key: 'input'` on messages hashes the payload exactly as the provider delivered it
 * (`ctx.trigger.rawBody`), not the parsed value: `{"id":9007199254740993}` and
 * `{"id":9007199254740992}` parse to the same number (under `body: 'json'` the function sees
 * 9007199254740992 twice), but they are two messages and must both run. A redelivery — the
 * same payload in a new envelope (receipt handle, receive count, SQS message id, SNS
 * subscription) — is still one message. Events are the published samples in
 * packages/handler/test/fixtures (see their SOURCES.md), with only the payload and the
 * per-delivery envelope fields changed; records go to the real Redis server.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { canonicalHash, idempotency, messageBodyHash, scopeOf, storeKey } from '../src/index.js';
import { lambdaContext, silentSink, useBackend, type Backend } from './support.js';

type Json = Record<string, any>;
const fixture = (path: string): Json => JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/${path}`, import.meta.url), 'utf8')) as Json;

const A = '{"id":9007199254740993}';
const B = '{"id":9007199254740992}';
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** How one provider's sample carries a payload, and how it is handed to the function. */
interface Provider {
  name: string;
  /** The event of `body`; `redelivery`: the same payload delivered again (new envelope fields). */
  event(body: string, redelivery: boolean): Json;
  run(main: ReturnType<typeof make>['main'], event: Json): Promise<unknown>;
  /** The payload delivered as bytes (base64 in the event), so `rawBody` is a Buffer. */
  bytes?: true;
}

const aws = (main: ReturnType<typeof make>['main'], event: Json): Promise<unknown> => main.aws(event, lambdaContext());

const PROVIDERS: Provider[] = [
  {
    name: 'SQS (aws/published/sqs-no-attributes.json)',
    event(body, redelivery) {
      const record = fixture('aws/published/sqs-no-attributes.json').Records[1];
      // A duplicate a producer sent twice has another message id; a redelivery another receipt handle and count.
      return { Records: [{ ...record, body, messageId: randomUUID(), receiptHandle: `AQEB${randomUUID()}`, attributes: { ...record.attributes, ApproximateReceiveCount: redelivery ? '2' : '1' } }] };
    },
    run: aws,
  },
  {
    name: 'SNS → SQS envelope (aws/published/sqs-sns-envelope.json)',
    event(message, redelivery) {
      const record = fixture('aws/published/sqs-sns-envelope.json').Records[0];
      const envelope = JSON.parse(record.body) as Json;
      // Another subscription's copy: its own unsubscribe URL and SQS message; the same Message.
      envelope.Message = message;
      envelope.MessageId = randomUUID();
      if (redelivery) envelope.UnsubscribeURL = `${envelope.UnsubscribeURL as string}-other`;
      return { Records: [{ ...record, body: JSON.stringify(envelope, null, 2), messageId: randomUUID(), receiptHandle: `AQEB${randomUUID()}` }] };
    },
    run: aws,
  },
  {
    name: 'SNS (aws/published/sns.json)',
    event(message) {
      const record = fixture('aws/published/sns.json').Records[0];
      return { Records: [{ ...record, Sns: { ...record.Sns, Message: message, MessageId: randomUUID() } }] };
    },
    run: aws,
  },
  {
    name: 'Kinesis (aws/published/kinesis.json)',
    bytes: true,
    event(body) {
      const record = fixture('aws/published/kinesis.json').Records[0];
      return { Records: [{ ...record, kinesis: { ...record.kinesis, data: base64(body) } }] };
    },
    run: aws,
  },
  {
    name: 'Amazon MSK (aws/published/msk.json)',
    bytes: true,
    event(body) {
      const event = fixture('aws/published/msk.json');
      const record = event.records['payments-0'][0];
      return { ...event, records: { 'payments-0': [{ ...record, value: base64(body), offset: Math.floor(Math.random() * 1e9) }] } };
    },
    run: aws,
  },
  {
    name: 'Pub/Sub (gcp/published/pubsub-structured.json)',
    bytes: true,
    event(body, redelivery) {
      const event = fixture('gcp/published/pubsub-structured.json');
      const id = randomUUID();
      return { ...event, id, data: { ...event.data, deliveryAttempt: redelivery ? 3 : 1, message: { ...event.data.message, data: base64(body), messageId: id, message_id: id } } };
    },
    run: (main, event) => main.gcpEvent(event),
  },
  {
    // The feed passes a value as text unless it parses it (isJSONData) or base64-encodes it (isBinaryValue).
    name: 'OpenWhisk Kafka feed, text value (openwhisk/published/kafka-feed.json)',
    event(body) {
      const message = fixture('openwhisk/published/kafka-feed.json').messages[1];
      return { messages: [{ ...message, value: body, offset: Math.floor(Math.random() * 1e9) }] };
    },
    run: (main, event) => main.openwhisk(event),
  },
  {
    name: 'OpenWhisk Kafka feed, isBinaryValue bound (openwhisk/published/kafka-feed.json)',
    bytes: true,
    event(body) {
      const message = fixture('openwhisk/published/kafka-feed.json').messages[1];
      return { isBinaryValue: true, messages: [{ ...message, value: base64(body), offset: Math.floor(Math.random() * 1e9) }] };
    },
    run: (main, event) => main.openwhisk(event),
  },
];

function make(store: Backend['store']) {
  const name = `body-key-${randomUUID()}`;
  const runs: unknown[] = [];
  const main = handler({ name, body: 'json', logSink: silentSink(), use: [idempotency({ store, namespace: name, key: 'input', ttlMs: 3_600_000, localCache: false })] }, (input) => {
    runs.push(input);
  });
  return { main, runs, keyOf: (body: string | Buffer) => storeKey(scopeOf(name), { kind: 'input', value: messageBodyHash(body) }) };
}

describe('key: input hashes the message body as delivered, on Redis', () => {
  const backend = useBackend('redis');

  it('the two bodies parse to one value: a key from the parsed input could not tell them apart', () => {
    expect(JSON.parse(A)).toEqual(JSON.parse(B));
    expect(canonicalHash(JSON.parse(A))).toBe(canonicalHash(JSON.parse(B)));
    expect(messageBodyHash(A)).not.toBe(messageBodyHash(B));
  });

  it.each(PROVIDERS)('$name: two big-int messages both run; a redelivery of the first is a replay', async (provider) => {
    const { main, runs, keyOf } = make(backend.store);
    await provider.run(main, provider.event(A, false));
    await provider.run(main, provider.event(B, false));
    // The function saw the same rounded number twice, and still ran for each message.
    expect(runs).toEqual([{ id: 9007199254740992 }, { id: 9007199254740992 }]);
    await provider.run(main, provider.event(A, true));
    await provider.run(main, provider.event(B, true));
    expect(runs).toHaveLength(2);
    // One completed record per body, under the documented key.
    const raw = (body: string): string | Buffer => (provider.bytes ? Buffer.from(body, 'utf8') : body);
    const [a, b] = await Promise.all([backend.store.get(keyOf(raw(A))), backend.store.get(keyOf(raw(B)))]);
    expect(a?.status).toBe('completed');
    expect(b?.status).toBe('completed');
    expect(keyOf(raw(A))).not.toBe(keyOf(raw(B)));
  });

  it('SQS: both big-int messages in one batch run; the batch redelivered runs neither', async () => {
    const { main, runs } = make(backend.store);
    const batch = (redelivery: boolean): Json => ({ Records: [...PROVIDERS[0]!.event(A, redelivery).Records, ...PROVIDERS[0]!.event(B, redelivery).Records] });
    expect(await main.aws(batch(false), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toHaveLength(2);
    expect(await main.aws(batch(true), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toHaveLength(2);
  });

  it.each(['input', 'auto'] as const)(
    "onConcurrent 'wait', key '%s': one message twice in an SQS batch — the second is IDEMPOTENCY_IN_PROGRESS at once, not a wait for a completion only this batch makes after it",
    async (key) => {
      const name = `body-twin-${randomUUID()}`;
      const runs: unknown[] = [];
      const codes: string[] = [];
      const sink = (line: string): void => void codes.push((JSON.parse(line) as { code?: string }).code ?? '');
      const main = handler({ name, body: 'json', logSink: sink, logLevel: 'warn', use: [idempotency({ store: backend.store, namespace: name, key, onConcurrent: 'wait', ttlMs: 3_600_000, localCache: false })] }, (input) => {
        runs.push(input);
      });
      const first = PROVIDERS[0]!.event(A, false).Records[0];
      // Under 'input' another message with the same body; under 'auto' the same message (one id) delivered twice in the batch.
      const twin = key === 'input' ? PROVIDERS[0]!.event(A, true).Records[0] : { ...first, receiptHandle: `AQEB${randomUUID()}` };
      // The first message's record completes only in afterBatch, once every message of the batch ran:
      // a wait for it lasts until the invocation's deadline (here 5 s) and ends as DEADLINE_EXCEEDED.
      const res = await main.aws({ Records: [first, twin] }, lambdaContext(undefined, 'orders', 5_000));
      expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: twin.messageId }] });
      expect(codes).toContain('IDEMPOTENCY_IN_PROGRESS');
      expect(codes).not.toContain('DEADLINE_EXCEEDED');
      expect(runs).toHaveLength(1);
      // Redelivered, the twin replays the first one's record.
      expect(await main.aws({ Records: [twin] }, lambdaContext())).toEqual({ batchItemFailures: [] });
      expect(runs).toHaveLength(1);
    },
  );

  it('the key is the payload only: the same body with other message attributes is one message', async () => {
    const { main, runs } = make(backend.store);
    const first = PROVIDERS[0]!.event(A, false);
    const again = PROVIDERS[0]!.event(A, true);
    again.Records[0].messageAttributes = { origin: { stringValue: 'retry-tool', stringListValues: [], binaryListValues: [], dataType: 'String' } };
    await main.aws(first, lambdaContext());
    await main.aws(again, lambdaContext());
    expect(runs).toHaveLength(1);
  });

  it('a key of your own, reused for another big-int body, is refused (IDEMPOTENCY_KEY_REUSED), not answered with the first one\'s replay', async () => {
    const name = `body-fp-${randomUUID()}`;
    const runs: unknown[] = [];
    const main = handler({ name, body: 'json', logSink: silentSink(), use: [idempotency({ store: backend.store, namespace: name, key: () => 'order-7', ttlMs: 3_600_000, localCache: false })] }, (input) => {
      runs.push(input);
    });
    const first = PROVIDERS[0]!.event(A, false);
    expect(await main.aws(first, lambdaContext())).toEqual({ batchItemFailures: [] });
    const other = PROVIDERS[0]!.event(B, false);
    expect(await main.aws(other, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: other.Records[0].messageId }] });
    expect(await main.aws(PROVIDERS[0]!.event(A, true), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toHaveLength(1);
  });
});
