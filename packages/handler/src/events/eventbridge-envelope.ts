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
import { isRecord, jsonText, nonEmptyStr, type Rec } from '../internal/record.js';
import type { EventBridgeEventRef } from '../types.js';
import { opt, scopedDeliveryId } from './item.js';

/** Members every EventBridge event carries as text (`version` is `'0'`). */
const TEXT = ['id', 'detail-type', 'source', 'account', 'time', 'region'] as const;

/** Whether a parsed value is a whole EventBridge event: `version: '0'`, every {@link TEXT} member a string (`id` not empty or blank: such a body is keyed by its SQS message id), `resources` a list, a `detail` member. */
export function isEventBridgeEvent(value: unknown): value is Rec {
  if (!isRecord(value) || value.version !== '0' || !('detail' in value) || !Array.isArray(value.resources)) return false;
  return TEXT.every((name) => typeof value[name] === 'string') && nonEmptyStr(value.id) !== undefined;
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
 * `replay-name`: the archive replay that sent the event again, when one did (EventBridge adds it
 * to every replayed event — the EventBridge User Guide's "Archiving and replaying events" keeps
 * replays from live rules with the pattern `"replay-name": [{ "exists": false }]`).
 */
export function replayNameOf(event: Rec): string | undefined {
  const name = event['replay-name'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * The delivery id of an EventBridge event, however it arrived (invoking Lambda directly, or as
 * an SQS body): `id`; for a scheduled tick (`tick`) with a `time`, `<rule or schedule ARN>@<time>`
 * (the first of `resources`; `schedule` when there is none). An event an archive replays carries
 * the original `id` and a `replay-name`: its delivery id is scoped by the replay
 * (`replay/<name>#<id>`) so that a replay, which is asked for, runs again instead of being
 * answered as a duplicate; a second run of the same replay is still one delivery.
 *
 * @param id The event's `id` (or what the caller keys an event without one by).
 * @example eventBridgeDeliveryId({ id: 'e-1', 'replay-name': 'fix-03' }, 'e-1', false) // 'replay/fix-03#e-1'
 */
export function eventBridgeDeliveryId(event: Rec, id: string, tick: boolean): string {
  const time = typeof event.time === 'string' ? event.time : '';
  const first = Array.isArray(event.resources) ? (event.resources as unknown[])[0] : undefined;
  const schedule = first === undefined ? undefined : jsonText(first);
  const base = tick && time !== '' ? `${schedule ?? 'schedule'}@${time}` : id;
  const replayName = replayNameOf(event);
  return replayName ? scopedDeliveryId(`replay/${replayName}`, base) : base;
}

/**
 * The identity and delivery id (see {@link eventBridgeDeliveryId}) of a whole EventBridge event
 * in an SQS body; a tick is a scheduled rule's or EventBridge Scheduler's (`detail-type:
 * 'Scheduled Event'` from `aws.events` / `aws.scheduler`).
 */
export function eventBridgeDelivery(event: Rec): { ref: EventBridgeEventRef; deliveryId: string } {
  const id = event.id as string;
  const source = event.source as string;
  const detailType = event['detail-type'] as string;
  const time = event.time as string;
  const replayName = replayNameOf(event);
  const tick = detailType === 'Scheduled Event' && (source === 'aws.events' || source === 'aws.scheduler');
  return {
    ref: { id, source, detailType, time, ...opt('replayName', replayName) },
    deliveryId: eventBridgeDeliveryId(event, id, tick),
  };
}
