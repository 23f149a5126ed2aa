/**
 * Review finding (misuse of the public `sqsSender().send()`): `attributes` that is not an
 * object of strings was read with `Object.keys`: a string `'abc'` or an array `['x']` was
 * sent as attributes named `0`, `1`, `2` (valid names, so SQS took them) and a number was
 * dropped without a word. Now such a message fails as `OUTBOX_SQS_INVALID_MESSAGE` (sender
 * fault, naming `attributes`), before any call; the other messages go out.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sqsSender } from '../../src/sqs.js';
import { createQueue, deleteQueue, receiveAll, sqsClient, sqsServers } from '../sqs-servers.js';

describe.each(sqsServers())('sqsSender().send() with attributes that are not an object ($name)', ({ endpoint }) => {
  const client = sqsClient(endpoint);
  const queues: string[] = [];
  afterAll(async () => {
    await Promise.all(queues.map((q) => deleteQueue(client, q)));
    client.destroy();
  });

  it('fails those messages before calling SQS, naming attributes; a good one is sent with its attribute', async () => {
    const queueUrl = await createQueue(client, 'review4-attrs', { maxBytes: 262_144 });
    queues.push(queueUrl);
    const sender = sqsSender({ client, queueUrl });
    const bad = ['abc', ['x'], 5];
    const report = await sender.send([
      ...bad.map((attributes, i) => ({ id: `bad-${i}`, body: '{}', attributes: attributes as never })),
      { id: 'good', body: '{}', attributes: { seq: '1' } },
      // null is no attributes, as before (a JS caller's explicit "none").
      { id: 'none', body: '{}', attributes: null as never },
    ]);
    expect(report.sent.map((s) => s.id).sort()).toEqual(['good', 'none']);
    expect(report.failed.map((f) => [f.id, f.code, f.senderFault])).toEqual(bad.map((_, i) => [`bad-${i}`, 'OUTBOX_SQS_INVALID_MESSAGE', true]));
    for (const f of report.failed) expect(f.message).toContain('attributes');
    const got = await receiveAll(client, queueUrl, 2);
    expect(got.map((m) => Object.keys(m.MessageAttributes ?? {}).join(',')).sort()).toEqual(['', 'seq']);
  });
});
