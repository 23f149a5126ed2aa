/**
 * Fuzz: mutated storage-photo-finalized.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { cloudStorageItem } from './gcs.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/gcp/storage-photo-finalized.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => [cloudStorageItem(isRecord(doc) ? doc : {}, isRecord(doc) ? doc.data : undefined)];

fuzzEventParser('gcs', sample, parse);
