/**
 * Fuzz: mutated event-hubs-batch.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { eventHubsItems } from './event-hubs.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/azure/event-hubs-batch.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => eventHubsItems(isRecord(doc) ? doc.events : undefined, isRecord(doc) && isRecord(doc.context) && isRecord(doc.context.triggerMetadata) ? doc.context.triggerMetadata : {}, true, { body: 'auto' });

fuzzEventParser('event-hubs', sample, parse);
