/**
 * Fuzz: mutated dynamodb-streams-batch.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { dynamoDbStreamItems } from './dynamodb.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/dynamodb-streams-batch.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => dynamoDbStreamItems(isRecord(doc) && Array.isArray(doc.Records) ? doc.Records : []).items;

fuzzEventParser('dynamodb', sample, parse);
