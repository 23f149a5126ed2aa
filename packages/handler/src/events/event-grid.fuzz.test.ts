/**
 * Fuzz: mutated event-grid-blob-created.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { eventGridItems } from './event-grid.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/azure/event-grid-blob-created.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => eventGridItems(isRecord(doc) ? doc.event : doc, { body: 'auto' });

fuzzEventParser('event-grid', sample, parse);
