/**
 * Stream records whose delivery id is a position a NEW record can take again: a Kafka offset
 * (`<cluster>/topic/partition/offset`; Amazon MSK, self-managed Kafka, the OpenWhisk Kafka
 * feed) restarts at 0 when a topic is deleted and recreated, and an unclean leader election or
 * a broker reset truncates a partition and hands its offsets out again; an Event Hubs sequence
 * number (`<namespace>/hub/partition/sequenceNumber`, without `<namespace>/` when the host names
 * none) restarts when a hub is recreated. Keyed by the
 * position alone, such a record within `ttlMs` would be answered with the old record's replay,
 * the function never run and nothing logged (noelwschneider/kafka-portfolio-project#27, #29).
 * So the record's time (`ctx.trigger.time`: Kafka's record timestamp, Event Hubs'
 * `enqueuedTimeUtc`) is part of its key — a redelivered record keeps its time, a reused
 * position does not — and its payload is its fingerprint (key.ts, `fingerprintsOf`), so the
 * same position and time with other bytes is a visible `IDEMPOTENCY_KEY_REUSED`.
 *
 * The same for a Knative KafkaSource's CloudEvent (`type` `dev.knative.kafka.event`): its `id`
 * is the position, `partition:<P>/offset:<O>`, and its `source` names the KafkaSource and topic
 * (`/apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>`), so a reused offset gives the same
 * `<source>#<id>` delivery id (knative/eventing-contrib#1205, "Kafka event source IDs may not be
 * unique"). Its `time` is the record's timestamp; its fingerprint is its validated data (the
 * event trigger carries no raw body).
 *
 * The same for an Azure Service Bus message (`QueueTrigger`, `source` `azure-service-bus`): its
 * delivery id is the broker's sequence number (`<namespace>/<queue>#<n>`), which counts from 1
 * in each queue or subscription, starts over when the entity is recreated (Azure/azure-service-bus#465)
 * and, after a geo-DR failover, is another namespace's count under the same alias
 * (Azure/azure-service-bus#646). Its time is `EnqueuedTimeUtc`, the same on every redelivery;
 * its fingerprint is the body as the host delivered it.
 *
 * Not Kinesis: its sequence numbers are assigned by the service as the record's unique
 * identifier within its shard and increase over time — never a count from 0 that starts over —
 * and the delivery id names the stream's ARN; nor DynamoDB Streams (the same kind of number).
 * Their keys stay as they were, so an upgrade does not run their redeliveries again.
 */
import type { Trigger } from '@steadyfn/handler';

/** `StreamTrigger.source` values whose positions are reused (see above). */
const REUSED_POSITIONS: ReadonlySet<string> = new Set(['kafka', 'azure-event-hubs']);

/** The CloudEvents `type` of a Knative KafkaSource record (see above). */
export const KNATIVE_KAFKA_EVENT = 'dev.knative.kafka.event';

/** A stream record's trigger (`kind: 'stream'`). */
export type StreamRecordTrigger = Extract<Trigger, { kind: 'stream' }>;

/** `QueueTrigger.source` of a Service Bus message, whose sequence numbers are reused (see above). */
const SERVICE_BUS = 'azure-service-bus' as const;

/** A Service Bus message's trigger (`kind: 'queue'`, `source` `azure-service-bus`). */
export type ServiceBusMessageTrigger = Extract<Trigger, { kind: 'queue' }> & { source: typeof SERVICE_BUS };

/** A trigger whose delivery id is a reusable position: a stream record, a Service Bus message, or a Knative KafkaSource CloudEvent (`kind: 'event'`). */
export type ReusablePositionTrigger = StreamRecordTrigger | ServiceBusMessageTrigger | Extract<Trigger, { kind: 'event' }>;

/** Whether the trigger's delivery id is a reusable position (a Kafka offset, an Event Hubs or Service Bus sequence number, a Knative KafkaSource event's `partition:P/offset:O`). */
export function isReusablePosition(trigger: Trigger): trigger is ReusablePositionTrigger {
  if (trigger.kind === 'event') return trigger.type === KNATIVE_KAFKA_EVENT;
  if (trigger.kind === 'queue') return trigger.source === SERVICE_BUS;
  return trigger.kind === 'stream' && REUSED_POSITIONS.has(trigger.source);
}

/**
 * The delivery key of such a record: `<deliveryId>\0<time>` (the time normalised, `recordTime`;
 * NUL appears in no delivery id or time), or the delivery id alone when the source gives no time
 * (the OpenWhisk Kafka feed, a Kafka record without a timestamp, a Service Bus message without
 * `EnqueuedTimeUtc`) — then only the payload
 * fingerprint tells a reused position from a redelivery.
 *
 * @example positionKey('kafka-1.internal:9092/orders/0/0', trigger) // 'kafka-1.internal:9092/orders/0/0\u00002026-12-01T10:00:00.123Z'
 */
export function positionKey(deliveryId: string, trigger: ReusablePositionTrigger): string {
  return typeof trigger.time === 'string' && trigger.time !== '' ? `${deliveryId}\0${recordTime(trigger.time)}` : deliveryId;
}

/** An ISO 8601 date-time with no zone (`2026-12-01T10:00:00.123`, a space for the `T` too; an expanded year `+002026` as ECMAScript writes it): `[date, time]`. */
const ZONELESS_DATE_TIME = /^((?:[+-]\d{6}|\d{4})-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/** An ISO 8601 date alone (UTC by the spec) or date-time with a zone, four-digit or expanded (`+002026`, `-000001`) year: `Date.parse` reads it the same in every zone. */
const ISO_WITH_ZONE = /^(?:[+-]\d{6}|\d{4})-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?))?$/;

/** A numeric zone after a time of day (`10:00:00 +0100`, `10:00 PM GMT-05:00`): sign, hours, minutes. */
const OFFSET_AT_END = /(?<=\d:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?m\.?)?)\s*(?:gmt|utc?)?\s*([+-])(\d{2}):?(\d{2})$/i;

/** A zone name at the end, as `Date.parse` knows them (`GMT`, `UTC`, `Z`, the US zones). */
const NAMED_ZONE_AT_END = /(?<=[\s\d])(z|ut|utc|gmt|[ecmp][sd]t)$/i;

/** Minutes east of UTC of the zone names `Date.parse` knows. */
const ZONE_MINUTES: Readonly<Record<string, number>> = { z: 0, ut: 0, utc: 0, gmt: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };

/**
 * The instant of a text in another form than ISO 8601 (`Tue, 01 Dec 2026 10:00:00 GMT`,
 * `12/1/2026 10:00:00 AM` as .NET writes a UTC `DateTime`), from the text alone: its zone, when
 * it ends with one, is read here, and the rest is read as UTC (`Date.parse` with ` Z` appended,
 * which overrides any zone left in it), so no host's `TZ` enters. A text without a four-digit
 * year (a `+0000` zone is none) is not read (`Date.parse` guesses a year for `foo 1`): NaN.
 */
function otherFormInstant(time: string): number {
  const text = time.replace(/\s*\([^()]*\)\s*$/, '');
  if (!/(?:^|[^\d+])\d{4}(?!\d)/.test(text)) return Number.NaN;
  let rest = text;
  let east = 0;
  const offset = OFFSET_AT_END.exec(text);
  const named = offset === null ? NAMED_ZONE_AT_END.exec(text) : null;
  if (offset !== null) {
    rest = text.slice(0, offset.index);
    east = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
  } else if (named !== null) {
    rest = text.slice(0, named.index);
    east = ZONE_MINUTES[named[1]!.toLowerCase()]!;
  }
  return Date.parse(`${rest.trimEnd()} Z`) - east * 60_000;
}

/**
 * A record's time as one text per instant: `Date#toISOString` (UTC, milliseconds) when it
 * parses, else the text as given. Kafka's time comes normalised already; Event Hubs' and
 * Service Bus' `enqueuedTimeUtc` is passed on as the host wrote it (`2026-12-01T10:00:00.123Z`,
 * `2026-12-01T10:00:00.1230000+00:00`, `12/1/2026 10:00:00 AM`, …), and one record must keep one
 * key whichever form a redelivery carries, on whichever host. A time without a zone, in any
 * form, is read as UTC, as its source writes it (`Date.parse` would read it in the process's
 * zone — `TZ`, which Azure Functions on App Service sets from `WEBSITE_TIME_ZONE` — so one record
 * would get another key on a host in another zone). Read as UTC rather than kept as given: on a
 * UTC host (Lambda, most containers) that is the key earlier versions gave, so an upgrade keeps
 * it. A form other than ISO 8601 is read from the text alone (`otherFormInstant`); one without
 * a four-digit year is kept as given.
 *
 * @param time - The record's time as the trigger carries it (`ctx.trigger.time`).
 * @returns The instant as `YYYY-MM-DDTHH:mm:ss.sssZ`, or `time` unchanged when it does not parse.
 * @example recordTime('2026-12-01T10:00:00.1230000') // '2026-12-01T10:00:00.123Z', whatever TZ is
 * @example recordTime('12/1/2026 10:00:00 AM') // '2026-12-01T10:00:00.000Z', whatever TZ is
 */
export function recordTime(time: string): string {
  const zoneless = ZONELESS_DATE_TIME.exec(time);
  const ms = zoneless !== null ? Date.parse(`${zoneless[1]}T${zoneless[2]}Z`) : ISO_WITH_ZONE.test(time) ? Date.parse(time) : otherFormInstant(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

/**
 * The fingerprint versions before this one gave every delivery key. Still matched for a
 * reusable position, so a record redelivered across the upgrade whose key did not change (no
 * time) replays rather than meeting `IDEMPOTENCY_KEY_REUSED`, for at most `ttlMs`.
 */
export const LEGACY_DELIVERY_FINGERPRINT = 'delivery';
