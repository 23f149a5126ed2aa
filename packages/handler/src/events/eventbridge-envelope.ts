/**
 * An EventBridge event an SQS queue receives as a rule's target (no input transformer): the SQS
 * body is the whole event `{ version: '0', id, detail-type, source, account, time, region,
 * resources, detail }` (EventBridge User Guide, "Amazon EventBridge events"). EventBridge retries
 * a target for up to 24 hours and 185 times, and a `SendMessage` that succeeded but timed out is
 * sent again: SQS gives that second copy a new message id. The event's own `id` stays, so the
 * delivery is keyed by it — as when the same rule invokes Lambda directly. Detected strictly
 * (every member EventBridge always sends, each of its type), so a body of your own with an `id`
 * or a `detail` is never taken for one.
 */
import { isRecord, jsonText, type Rec } from '../internal/record.js';
import type { EventBridgeEventRef } from '../types.js';
import { opt, scopedDeliveryId } from './item.js';

/** Members every EventBridge event carries as text (`version` is `'0'`). */
const TEXT = ['id', 'detail-type', 'source', 'account', 'time', 'region'] as const;

/** Whether a parsed value is a whole EventBridge event: `version: '0'`, every {@link TEXT} member a string (`id` non-empty), `resources` a list, a `detail` member. */
export function isEventBridgeEvent(value: unknown): value is Rec {
  if (!isRecord(value) || value.version !== '0' || !('detail' in value) || !Array.isArray(value.resources)) return false;
  return TEXT.every((name) => typeof value[name] === 'string') && value.id !== '';
}

/** The EventBridge event an SQS body holds, parsed; undefined for any other body (not text, not JSON, JSON of another shape). */
export function eventBridgeEventInBody(body: unknown): Rec | undefined {
  // Cheap refusal first: most bodies are not events, and those need no parse here.
  if (typeof body !== 'string' || !body.includes('"detail-type"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return isEventBridgeEvent(parsed) ? parsed : undefined;
}

/**
 * The event's identity and delivery id: its `id`; for a scheduled rule's or EventBridge
 * Scheduler's tick (`detail-type: 'Scheduled Event'` from `aws.events` / `aws.scheduler`)
 * `<rule or schedule ARN>@<time>`, as for a tick invoking Lambda directly. An event an archive
 * replays carries the original `id` and a `replay-name`: its delivery id is scoped by the
 * replay (`replay/<name>#<id>`) so that a replay, which is asked for, runs again.
 */
export function eventBridgeDelivery(event: Rec): { ref: EventBridgeEventRef; deliveryId: string } {
  const id = event.id as string;
  const source = event.source as string;
  const detailType = event['detail-type'] as string;
  const time = event.time as string;
  const replayName = typeof event['replay-name'] === 'string' && event['replay-name'] !== '' ? event['replay-name'] : undefined;
  const tick = detailType === 'Scheduled Event' && (source === 'aws.events' || source === 'aws.scheduler') && time !== '';
  const first = (event.resources as unknown[])[0];
  const schedule = first === undefined ? undefined : jsonText(first);
  const base = tick ? `${schedule ?? 'schedule'}@${time}` : id;
  return {
    ref: { id, source, detailType, time, ...opt('replayName', replayName) },
    deliveryId: replayName ? scopedDeliveryId(`replay/${replayName}`, base) : base,
  };
}
