/**
 * Fuzz: mutated blob-trigger.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { blobTriggerItem } from './azure-blob.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/azure/blob-trigger.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => [blobTriggerItem(isRecord(doc) ? doc.content : undefined, isRecord(doc) && isRecord(doc.context) && isRecord(doc.context.triggerMetadata) ? doc.context.triggerMetadata : {})];

fuzzEventParser('azure-blob', sample, parse);
