/**
 * An EventBridge archive replay of an S3 event is keyed like every other replayed EventBridge
 * event (review rva): `replay/<replay-name>#bucket/key@sequencer`, with `trigger.replayName`.
 * It kept the live event's `bucket/key@sequencer`, so with idempotency on the replay you asked
 * for was answered as a duplicate and never ran — directly and through SQS (EventBridge → SQS).
 * Built from Powertools' `Object Created` sample (test/fixtures/samples/aws).
 */
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample, type Json } from './support/published.js';

const LIVE_ID = 'example-bucket/IMG_m7fzo3.jpg@006408CAD69598B05E';

function replayed(name: string): Json {
  return { ...sample('aws', 'pt-s3-eventbridge-created.json'), 'replay-name': name };
}

/** `event` as the body of an SQS message (Powertools' s3-sqs sample's message). */
function inSqs(event: Json): Json {
  const sqs = sample('aws', 'pt-s3-sqs-event.json');
  sqs.Records[0].body = JSON.stringify(event);
  return sqs;
}

async function seenOf(event: Json): Promise<[string | undefined, unknown, unknown]> {
  const run = await runOnAwsEntries(event);
  expect(run.seen).toHaveLength(1);
  const { ctx } = run.seen[0]!;
  const trigger = ctx.trigger as { replayName?: string; via?: string };
  return [ctx.deliveryId, trigger.replayName, trigger.via];
}

describe('S3 through EventBridge: an archive replay gets its own delivery id', () => {
  it('directly: the live event keeps bucket/key@sequencer, a replay is replay/<name>#…', async () => {
    expect(await seenOf(sample('aws', 'pt-s3-eventbridge-created.json'))).toEqual([LIVE_ID, undefined, 'eventbridge']);
    expect(await seenOf(replayed('fix-2025-03'))).toEqual([`replay/fix-2025-03#${LIVE_ID}`, 'fix-2025-03', 'eventbridge']);
    // Two replays are two deliveries; the same replay sent twice stays one.
    expect((await seenOf(replayed('again')))[0]).toBe(`replay/again#${LIVE_ID}`);
    expect((await seenOf(replayed('fix-2025-03')))[0]).toBe(`replay/fix-2025-03#${LIVE_ID}`);
  });

  it('through SQS: the same ids as directly', async () => {
    expect(await seenOf(inSqs(sample('aws', 'pt-s3-eventbridge-created.json')))).toEqual([LIVE_ID, undefined, 'eventbridge-sqs']);
    expect(await seenOf(inSqs(replayed('fix-2025-03')))).toEqual([`replay/fix-2025-03#${LIVE_ID}`, 'fix-2025-03', 'eventbridge-sqs']);
  });

  it('a deletion and an event class are scoped too (the class stays in the id, escaped)', async () => {
    const deleted = { ...sample('aws', 'pt-s3-eventbridge-deleted.json'), 'replay-name': 'r1' };
    const [id] = await seenOf(deleted);
    expect(id).toMatch(/^replay\/r1#[^#]+$/);
    const restore = { ...sample('aws', 'ptpy-s3-eventbridge-restore-completed.json'), 'replay-name': 'r1' };
    expect((await seenOf(restore))[0]).toBe(`replay/r1#${LIVE_ID}%23restore-completed`);
  });

  it('an empty replay-name is none', async () => {
    expect(await seenOf(replayed(''))).toEqual([LIVE_ID, undefined, 'eventbridge']);
  });
});
