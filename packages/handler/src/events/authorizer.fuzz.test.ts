/**
 * Fuzz: mutated apigw-authorizer-request-v2.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { authorizerItem, isAuthorizerEvent } from './authorizer.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/apigw-authorizer-request-v2.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => (isRecord(doc) && isAuthorizerEvent(doc) ? [authorizerItem(doc)] : []);

fuzzEventParser('authorizer', sample, parse);
