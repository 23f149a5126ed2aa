/**
 * Fuzz: mutated sns-s3.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { snsItems } from './sns.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/sns-s3.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => snsItems(isRecord(doc) && Array.isArray(doc.Records) ? doc.Records : [], { body: 'auto' });

fuzzEventParser('sns', sample, parse);
