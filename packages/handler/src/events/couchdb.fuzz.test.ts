/**
 * Fuzz: mutated cloudant-change.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { couchDbItem } from './couchdb.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/openwhisk/cloudant-change.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => [couchDbItem(isRecord(doc) ? doc : {})];

fuzzEventParser('couchdb', sample, parse);
