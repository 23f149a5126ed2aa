/**
 * Fuzz: mutated firestore-document-written.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../internal/record.js';
import { firestoreItem, realtimeDatabaseItem } from './firebase.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/gcp/firestore-document-written.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => { const ce = isRecord(doc) ? doc : {}; return [firestoreItem({ ...ce, type: 'google.cloud.firestore.document.v1.written' }, ce.data), realtimeDatabaseItem({ ...ce, type: 'google.firebase.database.ref.v1.written' }, ce.data)]; };

fuzzEventParser('firebase', sample, parse);
