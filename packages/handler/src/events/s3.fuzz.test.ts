/**
 * Fuzz: mutated sqs-s3.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { s3ChangesInBody, s3Items, s3NotificationChanges } from './s3.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/sqs-s3.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => { const records = isRecord(doc) && Array.isArray(doc.Records) ? doc.Records : []; const inner = records.flatMap((r: any) => { const c = s3ChangesInBody(r?.body, 'body'); return c ? s3Items(c.changes, 'sqs') : []; }); return [...inner, ...s3Items(s3NotificationChanges(records.filter((r: any) => r?.eventSource === 'aws:s3')), undefined)]; };

fuzzEventParser('s3', sample, parse);
