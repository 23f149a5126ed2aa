/**
 * Fuzz: mutated cosmosdb-batch.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { cosmosItems } from './cosmos.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/azure/cosmosdb-batch.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => cosmosItems(isRecord(doc) ? doc.documents : undefined, 'orders');

fuzzEventParser('cosmos', sample, parse);
