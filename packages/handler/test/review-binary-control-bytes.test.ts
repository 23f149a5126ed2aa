/**
 * Binary payloads that happen to be valid UTF-8. The Functions Framework conformance suite's
 * `pubsub_binary` input and google-cloudevents' `MessagePublishedData-simple` carry the bytes
 * 01 02 03 04: valid UTF-8, but four control characters, not text anyone wrote. Under
 * `body: 'auto'` they must reach the function as the bytes (a `Buffer`), as bytes that are not
 * UTF-8 do; text with tabs and line breaks stays text. Through the real Functions Framework
 * (Pub/Sub) and the Lambda entries (Kinesis).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';
import { recorder, runOnAwsEntries, sample } from './support/published.js';

afterAll(closeServers);

async function pubsub(file: string) {
  const { seen, fn } = recorder();
  const url = await serve('cloudEvent', handler({ logSink: () => undefined }, fn));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(sample('gcp', file)) });
  await res.arrayBuffer();
  expect(res.status).toBe(204);
  return seen[0]!.input;
}

function kinesisEvent(data: Buffer) {
  const event = sample('aws', 'pt-kinesis-stream-one-record.json');
  event.Records[0].kinesis.data = data.toString('base64');
  return event;
}

describe("body 'auto': control bytes are binary, not text", () => {
  it('conformance pubsub_binary (01 02 03 04) reaches the function as a Buffer', async () => {
    expect(await pubsub('ffc-pubsub_binary-cloudevent-input.json')).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('google-cloudevents MessagePublishedData-simple (01 02 03 04) reaches the function as a Buffer', async () => {
    // The published sample wrapped in its CloudEvent (structured mode).
    const { seen, fn } = recorder();
    const url = await serve('cloudEvent', handler({ logSink: () => undefined }, fn));
    const ce = { specversion: '1.0', type: 'google.cloud.pubsub.topic.v1.messagePublished', source: '//pubsub.googleapis.com/projects/test-project/topics/my-topic', id: 'message-id', data: sample('gcp', 'pubsub-message-simple.json') };
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(ce) });
    await res.arrayBuffer();
    expect(res.status).toBe(204);
    expect(seen[0]!.input).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('a Kinesis record of NUL-containing bytes is a Buffer; text with tabs and line breaks stays text', async () => {
    const binary = Buffer.from([0x00, 0x41, 0x1b, 0x7f]);
    const bin = await runOnAwsEntries(kinesisEvent(binary));
    for (const s of bin.seen) expect(s.input).toEqual(binary);
    const text = 'line one\tcol\r\nline two\n';
    const txt = await runOnAwsEntries(kinesisEvent(Buffer.from(text)));
    for (const s of txt.seen) expect(s.input).toBe(text);
  });
});
