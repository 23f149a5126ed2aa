/**
 * Review finding (characters SQS refuses): an event whose payload held U+FFFE or U+FFFF —
 * text from any user, kept as is by JSON.stringify — was committed and then refused by the
 * sender (`OUTBOX_SQS_INVALID_CHARACTERS`, a sender fault): its aggregate was quarantined for
 * good although the body is JSON, which can carry every character as an escape. And an
 * aggregate id holding U+FFFE or a lone surrogate passed `add()` (only C0 controls were
 * refused), was committed (Redis and BSON replace a lone surrogate with U+FFFD, so the
 * aggregate's identity changed on the way) and was quarantined on the `steadyfn.aggregate`
 * attribute, which no encoding can rescue. Now the envelope escapes what SQS refuses, and
 * `add()` refuses an aggregate id SQS cannot carry (`OUTBOX_EVENT_INVALID`, nothing written).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, parseEnvelope, redisOutbox, type EventEnvelope } from '../../src/index.js';
import { sqsSender } from '../../src/sqs.js';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from '../support.js';

let backend: RedisBackend;
let sqs: SQSClient;
let queue: { url: string; remove(): Promise<void> };

beforeAll(async () => {
  backend = await openRedis('redis');
  sqs = await sqsClient('fauxqs');
  queue = await createQueue(sqs, { maxMessageBytes: 262_144 });
});
afterAll(async () => {
  await queue?.remove();
  sqs?.destroy();
  await backend?.close();
});

const events = { Noted: { aggregateType: 'note', schema: z.object({ text: z.string() }) } };

function noteFunction() {
  const orders = outbox({ events, store: redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` }), relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: backend.lease } });
  return handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
    const { id, text } = input as { id: string; text: string };
    ctx.outbox.call('SET', `${backend.prefix}note:{n}:${Buffer.from(id).toString('hex')}`, '1');
    ctx.outbox.add({ type: 'Noted', aggregateId: id, payload: { text } });
    return 'ok';
  });
}

describe('characters SQS refuses', () => {
  it('in a payload: the event is sent (escaped in the JSON body) and reads back unchanged', async () => {
    const fn = noteFunction();
    const text = 'a\uFFFEb\uFFFFc\u0001d\uD800e';
    await fn.invoke({ id: 'n-1', text }, { deliveryId: 'd-1' });
    const received = await drainQueue(sqs, queue.url);
    expect(received).toHaveLength(1);
    const [message] = received;
    expect(message?.Body).not.toMatch(/[\uFFFE\uFFFF]/);
    const parsed = parseEnvelope(message!.Body!);
    expect(parsed.ok).toBe(true);
    // A lone surrogate is escaped by JSON.stringify and parses back to itself.
    expect((parsed as { event: EventEnvelope }).event.payload).toEqual({ text });
  });

  it.each([
    ['U+FFFE', 'n\uFFFE2'],
    ['U+FFFF', 'n\uFFFF3'],
    ['a lone surrogate', 'n\uD8004'],
    ['a lone low surrogate', 'n\uDC005'],
  ])('in an aggregate id (%s): refused by add(), nothing written', async (_name, id) => {
    const fn = noteFunction();
    const error = await fn.invoke({ id, text: 'x' }, { deliveryId: `d-${_name}` }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await backend.client.exists(`${backend.prefix}note:{n}:${Buffer.from(id).toString('hex')}`)).toBe(0);
  });

  it('an aggregate id with characters SQS allows (non-ASCII, C1) is accepted and sent', async () => {
    const fn = noteFunction();
    const id = 'Bestellung Nr. 42 – Müller \u0085';
    await fn.invoke({ id, text: 'x' }, { deliveryId: 'd-ok' });
    const received = await drainQueue(sqs, queue.url);
    expect(received).toHaveLength(1);
    const [message] = received;
    expect((parseEnvelope(message!.Body!) as { event: EventEnvelope }).event.aggregateId).toBe(id);
  });
});
