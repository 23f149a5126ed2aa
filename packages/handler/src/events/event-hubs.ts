/**
 * Azure Event Hubs trigger (`app.eventHub`, `cardinality: 'many'` or `'one'`) as `stream`
 * items. Trigger metadata (camel-cased by the worker): `partitionContext` { eventHubName,
 * consumerGroup, fullyQualifiedNamespace, partitionId }, and per event `sequenceNumber(Array)`,
 * `offset(Array)`, `enqueuedTimeUtc(Array)`, `partitionKeyArray`, `properties(Array)`,
 * `systemProperties(Array)`. `ctx.deliveryId` is `<namespace>/eventHub/partition/sequenceNumber`
 * (`eventHub/partition/sequenceNumber` when the host names no namespace).
 */
import { isRecord, type Rec } from '../internal/record.js';
import { anyPayload } from '../message.js';
import type { StreamTrigger } from '../types.js';
import { lazyTriggerBodies, rawJson } from './azure-host-metadata.js';
import { propertiesAsText } from './attributes.js';
import { idText, malformed, opt, rawBodyOf, withRawBody, type EventItem, type ParseOptions } from './item.js';

export function isEventHubsMetadata(meta: Rec): boolean {
  return isRecord(meta.partitionContext) && ('sequenceNumberArray' in meta || 'sequenceNumber' in meta || 'offsetArray' in meta || 'offset' in meta);
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A string member of a record, trying each spelling (the worker camel-cases only the first letter). */
function member(rec: unknown, ...names: string[]): unknown {
  if (!isRecord(rec)) return undefined;
  for (const name of names) if (rec[name] !== undefined) return rec[name];
  return undefined;
}

/**
 * @param raw - the host's own trigger metadata when running in the worker (kept by providers/azure-raw.ts, read with azure-host-metadata.ts):
 *   properties are read from it, with their names as sent and numbers as their exact text.
 * @param data - the trigger binding's RPC `TypedData` when running in the worker: `trigger.rawBody` is read from it
 *   (see `rawTriggerBodies`), else only a body the worker left as text or bytes has one.
 */
export function eventHubsItems(trigger: unknown, meta: Rec, many: boolean, options: ParseOptions, raw?: Rec, data?: Rec): EventItem[] {
  const partitionContext = isRecord(meta.partitionContext) ? meta.partitionContext : {};
  const hub = typeof partitionContext.eventHubName === 'string' ? partitionContext.eventHubName : '';
  const partition = idText(partitionContext.partitionId) ?? '';
  // Hub names and sequence numbers repeat across namespaces (two namespaces' `readings`, one
  // function reading both): the namespace the host names (Event Hubs extension 5.x) scopes them.
  const namespace = member(partitionContext, 'fullyQualifiedNamespace', 'FullyQualifiedNamespace');
  const scope = typeof namespace === 'string' && namespace.trim() !== '' ? `${namespace.trim()}/` : '';
  if (many && !Array.isArray(trigger)) throw malformed('Event Hubs batch is not a list of events', 'events', 'a list (cardinality many)');
  const bodies: unknown[] = many ? Array.from(trigger as unknown[]) : [trigger];
  const hostBodies = lazyTriggerBodies(data, many, bodies.length);
  const sequences = many ? list(meta.sequenceNumberArray) : [meta.sequenceNumber];
  const offsets = many ? list(meta.offsetArray) : [meta.offset];
  const times = many ? list(meta.enqueuedTimeUtcArray) : [meta.enqueuedTimeUtc];
  const keys = many ? list(meta.partitionKeyArray) : [meta.partitionKey];
  const hostProps = rawJson(raw, many ? 'propertiesArray' : 'properties');
  const props = many ? (Array.isArray(hostProps) ? hostProps : list(meta.propertiesArray)) : [hostProps ?? meta.properties];
  const system = many ? list(meta.systemPropertiesArray) : [meta.systemProperties];
  return bodies.map((body, index): EventItem => {
    const sequence = idText(sequences[index]) ?? idText(member(system[index], 'sequenceNumber', 'SequenceNumber', 'x-opt-sequence-number'));
    if (sequence === undefined) {
      throw malformed('Event Hubs event has no sequence number', many ? `triggerMetadata.sequenceNumberArray.${index}` : 'triggerMetadata.sequenceNumber', 'an integer');
    }
    const offset = idText(offsets[index]) ?? idText(member(system[index], 'offset', 'Offset', 'x-opt-offset'));
    const key = keys[index] ?? member(system[index], 'partitionKey', 'PartitionKey', 'x-opt-partition-key');
    const time = times[index] ?? member(system[index], 'enqueuedTimeUtc', 'EnqueuedTimeUtc');
    const attributes = propertiesAsText(props[index]);
    if (offset !== undefined) attributes['x-opt-offset'] = offset;
    const trigger: StreamTrigger = {
      kind: 'stream',
      source: 'azure-event-hubs',
      stream: hub,
      partition,
      sequence,
      ...opt('key', typeof key === 'string' ? key : undefined),
      ...opt('time', typeof time === 'string' ? time : undefined),
      attributes,
      batchIndex: index,
      batchSize: bodies.length,
    };
    withRawBody(trigger, () => hostBodies()?.[index] ?? rawBodyOf(body));
    return { trigger, deliveryId: `${scope}${hub}/${partition}/${sequence}`, payload: () => anyPayload(body, options.body, { field: many ? `events.${index}` : 'event' }) };
  });
}
