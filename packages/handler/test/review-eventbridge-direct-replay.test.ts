/**
 * Review finding (s52, left alone in s51): an EventBridge event an archive replays keeps its
 * `id` and gains a `replay-name` (the EventBridge User Guide, "Archiving and replaying events",
 * keeps replays from live rules with the pattern `"replay-name": [{ "exists": false }]`; the
 * published sample aws-powertools/powertools-lambda-python tests/events/eventBridgeEvent.json,
 * test/fixtures/samples/aws/ptpy-eventbridge-ec2.json, carries `"replay-name":
 * "replay_archive"`). Delivered in an SQS body it was keyed `replay/<name>#<id>`, so the replay
 * ran again; invoking Lambda directly it was keyed by `id` alone, so `@steadyfn/idempotency`
 * answered the replay — which someone asked for — as a duplicate and never ran it. Both paths
 * now share one rule (eventbridge-envelope.ts `eventBridgeDeliveryId`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';
import { sqsRecord } from './support/sqs.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const M1 = '11111111-1111-4111-8111-111111111111';

describe('EventBridge → Lambda directly: an archive replay is its own delivery', () => {
  it('the published replayed event: replay/<replay-name>#<id>; the same event live: its id', async () => {
    const replayed = sample('aws', 'ptpy-eventbridge-ec2.json');
    const run = await runOnAwsEntries(replayed);
    expect(run.seen).toHaveLength(1);
    expect(run.seen[0]!.ctx.deliveryId).toBe('replay/replay_archive#6a7e8feb-b491-4cf7-a9f1-bf3703467718');
    const { 'replay-name': _name, ...live } = replayed;
    const liveRun = await runOnAwsEntries(live);
    expect(liveRun.seen[0]!.ctx.deliveryId).toBe('6a7e8feb-b491-4cf7-a9f1-bf3703467718');
  });

  it('a replayed event gets one delivery id whether it invokes Lambda directly or arrives in an SQS body', async () => {
    for (const event of [{ ...fixture('eventbridge-custom-event.json'), 'replay-name': 'fix-2025-03' }, { ...fixture('eventbridge-scheduled-rule.json'), 'replay-name': 'fix-2025-03' }]) {
      const direct = await runOnAwsEntries(event);
      const viaSqs = await runOnAwsEntries({ Records: [sqsRecord(M1, event)] });
      expect(direct.seen[0]!.ctx.deliveryId).toBe(viaSqs.seen[0]!.ctx.deliveryId);
      expect(direct.seen[0]!.ctx.deliveryId).toMatch(/^replay\/fix-2025-03#/);
    }
  });

  it('a replayed scheduled tick: scoped <rule ARN>@<time>; two replays of one event are two deliveries', async () => {
    const tick = fixture('eventbridge-scheduled-rule.json');
    const first = await runOnAwsEntries({ ...tick, 'replay-name': 'r1' });
    const second = await runOnAwsEntries({ ...tick, 'replay-name': 'r2' });
    expect(first.seen[0]!.ctx.deliveryId).toBe('replay/r1#arn:aws:events:eu-west-1:123456789012:rule/nightly-report@2025-03-14T10:00:00Z');
    expect(second.seen[0]!.ctx.deliveryId).toBe('replay/r2#arn:aws:events:eu-west-1:123456789012:rule/nightly-report@2025-03-14T10:00:00Z');
    // An empty replay-name names no replay.
    const none = await runOnAwsEntries({ ...tick, 'replay-name': '' });
    expect(none.seen[0]!.ctx.deliveryId).toBe('arn:aws:events:eu-west-1:123456789012:rule/nightly-report@2025-03-14T10:00:00Z');
  });
});
