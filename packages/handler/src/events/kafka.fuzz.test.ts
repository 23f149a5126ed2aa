/**
 * Fuzz: mutated msk-batch.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { lambdaKafkaItems } from './kafka.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/msk-batch.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => lambdaKafkaItems(isRecord(doc) ? doc : {}, { body: 'auto' });

fuzzEventParser('kafka', sample, parse);
