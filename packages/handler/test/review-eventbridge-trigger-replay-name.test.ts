/**
 * Review finding (s53, left alone in s52): an EventBridge archive replay delivered straight to
 * Lambda is keyed `replay/<name>#<id>` (review-eventbridge-direct-replay.test.ts), but its
 * trigger did not say so: the SQS-body path names the replay as `trigger.eventBridge.replayName`,
 * the direct `event` and `schedule` triggers had no `replayName`, so a function could not tell a
 * replay from a live event without reading the raw event. Both now carry `replayName` (left out
 * for a live event). Published sample: aws-powertools/powertools-lambda-python
 * tests/events/eventBridgeEvent.json (test/fixtures/samples/aws/ptpy-eventbridge-ec2.json),
 * which carries `"replay-name": "replay_archive"`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';
import { sqsRecord } from './support/sqs.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const M1 = '11111111-1111-4111-8111-111111111111';

describe('EventBridge → Lambda directly: the trigger names an archive replay', () => {
  it('the published replayed event: trigger.replayName is its replay-name; the same event live has none', async () => {
    const replayed = sample('aws', 'ptpy-eventbridge-ec2.json');
    const run = await runOnAwsEntries(replayed);
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', source: 'eventbridge', replayName: 'replay_archive' });
    const { 'replay-name': _name, ...live } = replayed;
    const liveRun = await runOnAwsEntries(live);
    expect(liveRun.seen[0]!.ctx.trigger).not.toHaveProperty('replayName');
  });

  it('a replayed scheduled tick: the schedule trigger carries replayName too', async () => {
    const run = await runOnAwsEntries({ ...fixture('eventbridge-scheduled-rule.json'), 'replay-name': 'fix-2025-03' });
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'schedule', source: 'eventbridge', replayName: 'fix-2025-03' });
    const live = await runOnAwsEntries(fixture('eventbridge-scheduled-rule.json'));
    expect(live.seen[0]!.ctx.trigger).not.toHaveProperty('replayName');
  });

  it('the same name as the SQS-body path gives (trigger.eventBridge.replayName); an empty replay-name names none', async () => {
    const event = { ...fixture('eventbridge-custom-event.json'), 'replay-name': 'fix-2025-03' };
    const direct = await runOnAwsEntries(event);
    const viaSqs = await runOnAwsEntries({ Records: [sqsRecord(M1, event)] });
    const sqsTrigger = viaSqs.seen[0]!.ctx.trigger as { eventBridge?: { replayName?: string } };
    expect((direct.seen[0]!.ctx.trigger as { replayName?: string }).replayName).toBe(sqsTrigger.eventBridge?.replayName);
    const empty = await runOnAwsEntries({ ...event, 'replay-name': '' });
    expect(empty.seen[0]!.ctx.trigger).not.toHaveProperty('replayName');
  });
});
