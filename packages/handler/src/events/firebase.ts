/**
 * Firestore (`google.cloud.firestore.document.v1.*`) and Firebase Realtime Database
 * (`google.firebase.database.ref.v1.*`) CloudEvents as `change` items. A Realtime Database event
 * may also be typed `google.firebase.database.document.v1.*`: the name the Java, .NET, PHP and
 * Ruby Functions Frameworks give a legacy `providers/google.firebase.database/eventTypes/ref.*`
 * they convert, and the one the Functions Framework conformance suite sends
 * (functions-framework-conformance `events/generate/data/firebase-db1-cloudevent-input.json`).
 *
 * Firestore sends `DocumentEventData` { value, oldValue, updateMask } as protobuf by default
 * and as JSON when the trigger asks for `application/json`. JSON documents are decoded to
 * plain values (integers as numbers when lossless, else their exact text; bytes as `Buffer`;
 * timestamps and references as text; geo points as `{ latitude, longitude }`). Protobuf data is
 * handed over as the bytes (`ctx.trigger.encoding === 'protobuf'`): decode it with the
 * `DocumentEventData` type from googleapis/google-cloudevents, or use a JSON trigger. The op of
 * a `written` event is read from which documents the bytes carry (`protobufDocuments`).
 *
 * A `….withAuthContext` event's `authtype` / `authid` attributes are the trigger's `auth`.
 *
 * Realtime Database events carry `{ data, delta }`: the value before and the change; the value
 * after is `delta` applied to `data` (a null member removes that child), as firebase-functions does.
 */
import { decodeBase64Strict } from '../internal/base64.js';
import { isLosslessNumber } from '../internal/json.js';
import { isRecord, setOwn, type Rec } from '../internal/record.js';
import type { ChangeTrigger } from '../types.js';
import { malformed, needIdString, needString, opt, scopedDeliveryId, type EventItem } from './item.js';

const FIRESTORE = /^google\.cloud\.firestore\.document\.v1\.(created|updated|deleted|written)(\.withAuthContext)?$/;
const RTDB = /^google\.firebase\.database\.(?:ref|document)\.v1\.(created|updated|deleted|written)$/;
/** Firestore maps and arrays nest at most 20 levels. */
const MAX_DEPTH = 64;

export function isFirestoreEvent(type: string): boolean {
  return FIRESTORE.test(type);
}

export function isRealtimeDatabaseEvent(type: string): boolean {
  return RTDB.test(type);
}

/** One Firestore `Value` in its JSON form as a plain value. */
export function firestoreValue(value: unknown, field: string, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw malformed('Firestore value nested too deep', field, `at most ${MAX_DEPTH} levels`);
  if (!isRecord(value)) throw malformed('Firestore value is not an object', field, 'a Firestore Value');
  if ('nullValue' in value) return null;
  if (typeof value.booleanValue === 'boolean') return value.booleanValue;
  if ('integerValue' in value) {
    const text = value.integerValue;
    if (typeof text === 'number' && Number.isSafeInteger(text)) return text;
    if (typeof text !== 'string' || !/^-?\d+$/.test(text)) throw malformed('Firestore integerValue is not an integer', `${field}.integerValue`, 'an integer as text');
    const n = Number(text);
    return isLosslessNumber(text, n) ? n : text;
  }
  if ('doubleValue' in value) {
    const d = value.doubleValue;
    // proto3 JSON writes NaN and the infinities as text.
    if (typeof d === 'number' || d === 'NaN' || d === 'Infinity' || d === '-Infinity') return typeof d === 'number' ? d : Number(d);
    throw malformed('Firestore doubleValue is not a number', `${field}.doubleValue`, 'a number');
  }
  if (typeof value.timestampValue === 'string') return value.timestampValue;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.referenceValue === 'string') return value.referenceValue;
  if ('bytesValue' in value) {
    const bytes = typeof value.bytesValue === 'string' ? decodeBase64Strict(value.bytesValue) : undefined;
    if (!bytes) throw malformed('Firestore bytesValue is not base64', `${field}.bytesValue`, 'base64 text');
    return bytes;
  }
  if (isRecord(value.geoPointValue)) {
    const { latitude = 0, longitude = 0 } = value.geoPointValue;
    return { latitude, longitude };
  }
  if (isRecord(value.arrayValue)) {
    const values = value.arrayValue.values ?? [];
    if (!Array.isArray(values)) throw malformed('Firestore arrayValue.values is not a list', `${field}.arrayValue.values`, 'a list');
    return values.map((v, i) => firestoreValue(v, `${field}.arrayValue.values.${i}`, depth + 1));
  }
  if (isRecord(value.mapValue)) return firestoreFields(value.mapValue.fields, `${field}.mapValue.fields`, depth + 1);
  throw malformed('Firestore value has no known type', field, 'a Firestore Value (stringValue, integerValue, mapValue, …)');
}

function firestoreFields(fields: unknown, field: string, depth: number): Rec {
  if (fields === undefined) return {};
  if (!isRecord(fields)) throw malformed('Firestore fields are not an object', field, 'a map of Firestore values');
  const out: Rec = {};
  for (const [name, v] of Object.entries(fields)) setOwn(out, name, firestoreValue(v, `${field}.${name}`, depth));
  return out;
}

/** A Firestore `Document` (JSON) as its plain fields; undefined when absent. */
export function firestoreDocument(doc: unknown, field: string): Rec | undefined {
  if (doc === undefined || doc === null) return undefined;
  if (!isRecord(doc)) throw malformed('Firestore document is not an object', field, 'a Firestore Document');
  // Legacy (background) events send `oldValue: {}` for a document that did not exist.
  if (Object.keys(doc).length === 0) return undefined;
  return firestoreFields(doc.fields, `${field}.fields`, 0);
}

function opFrom(verb: string, before: unknown, after: unknown): ChangeTrigger['op'] {
  if (verb === 'created') return 'insert';
  if (verb === 'deleted') return 'delete';
  if (verb === 'updated') return 'update';
  if (before === undefined || before === null) return 'insert';
  if (after === undefined || after === null) return 'delete';
  return 'update';
}

/** `users/alice` → `users`; `a/b/c/d` → `a/b/c`. */
function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

function stripPrefix(subject: string | undefined, prefix: string): string | undefined {
  return subject?.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}

/**
 * Which documents a protobuf `DocumentEventData` carries: its top-level fields 1 (`value`, the
 * document after; "not populated for delete events") and 2 (`old_value`, before; "only
 * populated for update and delete events"), googleapis/google-cloudevents
 * `proto/google/events/cloud/firestore/v1/data.proto`. A field present but empty is an empty
 * `Document`, no document, as `oldValue: {}` is in JSON. Only the top level is walked; the
 * documents stay bytes. `undefined` when the bytes are not a well-formed message.
 */
function protobufDocuments(bytes: Uint8Array): { value: boolean; oldValue: boolean } | undefined {
  let pos = 0;
  // A base-128 varint as a number: lengths and tags here stay far below 2^53.
  const varint = (): number | undefined => {
    let result = 0;
    for (let shift = 0; shift < 64 && pos < bytes.length; shift += 7) {
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    return undefined;
  };
  const found = { value: false, oldValue: false };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      if (varint() === undefined) return undefined;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || length > bytes.length - pos) return undefined;
      pos += length;
      if (length > 0 && field === 1) found.value = true;
      if (length > 0 && field === 2) found.oldValue = true;
    } else return undefined;
  }
  return pos === bytes.length ? found : undefined;
}

/**
 * Who made a change, from a `….withAuthContext` event's extension attributes `authtype`
 * (`app_user`, `admin`, `service_account`, `api_key`, `unauthenticated`, `system`, `unknown`)
 * and `authid` (the principal's id; absent for some types). Undefined for other event types, or
 * when the event carries no `authtype`.
 */
function authContext(ce: Rec, withAuth: boolean): ChangeTrigger['auth'] {
  if (!withAuth || typeof ce.authtype !== 'string' || ce.authtype === '') return undefined;
  return { type: ce.authtype, ...opt('id', typeof ce.authid === 'string' && ce.authid !== '' ? ce.authid : undefined) };
}

/** The change item of a Firestore CloudEvent; `data` is the decoded JSON or the protobuf bytes. `deliveryId`: `<source>#<id>` (two databases may send one id). */
export function firestoreItem(ce: Rec, data: unknown): EventItem {
  const type = needString(ce.type, 'type');
  const match = FIRESTORE.exec(type)!;
  const verb = match[1]!;
  const auth = authContext(ce, match[2] !== undefined);
  // `<source>#<id>`: an id is unique only within its source (the database), see `scopedDeliveryId`.
  const id = scopedDeliveryId(needString(ce.source, 'source'), needIdString(ce.id, 'id'));
  const path = (typeof ce.document === 'string' ? ce.document : undefined) ?? stripPrefix(typeof ce.subject === 'string' ? ce.subject : undefined, 'documents/');
  if (!path) throw malformed('Firestore event names no document', 'document', 'the document path (extension `document` or subject `documents/…`)');
  const time = typeof ce.time === 'string' ? ce.time : undefined;
  const base = { kind: 'change' as const, source: 'firestore', collection: parentOf(path), key: path, sequence: undefined, ...opt('time', time), ...opt('auth', auth), batchIndex: 0, batchSize: 1 };
  if (Buffer.isBuffer(data) || data instanceof Uint8Array) {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    // A `written` event is a create, an update or a delete by the documents it carries; bytes
    // that do not parse as a message are taken for an update, as before.
    const docs = protobufDocuments(bytes);
    const op = docs ? opFrom(verb, docs.oldValue ? {} : undefined, docs.value ? {} : undefined) : opFrom(verb, {}, {});
    const trigger: ChangeTrigger = { ...base, op, encoding: 'protobuf' };
    return { trigger, deliveryId: id, payload: () => bytes };
  }
  if (!isRecord(data)) throw malformed('Firestore event data is not a DocumentEventData', 'data', 'DocumentEventData as JSON, or protobuf bytes');
  const after = firestoreDocument(data.value, 'data.value');
  const before = firestoreDocument(data.oldValue, 'data.oldValue');
  const op = opFrom(verb, before, after);
  const trigger: ChangeTrigger = { ...base, op, ...opt('before', before), encoding: 'json' };
  return { trigger, deliveryId: id, payload: () => (op === 'delete' ? (before ?? { id: path }) : after) };
}

/** `delta` applied to `before`: objects merge member by member, null removes, anything else replaces. */
export function applyDelta(before: unknown, delta: unknown): unknown {
  if (!isRecord(before) || !isRecord(delta)) return delta;
  const out: Rec = {};
  for (const [k, v] of Object.entries(before)) setOwn(out, k, v);
  for (const [k, v] of Object.entries(delta)) {
    if (v === null) delete out[k];
    else setOwn(out, k, applyDelta(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return Object.keys(out).length === 0 ? null : out;
}

/**
 * The change item of a Realtime Database CloudEvent. `deliveryId`: `<source>#<id>`, the source
 * without `/locations/<l>` (`//firebasedatabase.googleapis.com/projects/_/instances/<i>#<id>`):
 * two instances may send one id.
 */
export function realtimeDatabaseItem(ce: Rec, data: unknown): EventItem {
  const type = needString(ce.type, 'type');
  const verb = RTDB.exec(type)![1]!;
  // `<source>#<id>`: an id is unique only within its source (the instance), see `scopedDeliveryId`.
  // Without the source's `/locations/<l>` (instance names are global): a background function's
  // context carries none (the framework strips it), and one event keeps one id on either signature.
  const instance = needString(ce.source, 'source').replace(/\/locations\/[^/]+(?=\/instances\/)/, '');
  const id = scopedDeliveryId(instance, needIdString(ce.id, 'id'));
  const ref = (typeof ce.ref === 'string' ? ce.ref : undefined) ?? stripPrefix(typeof ce.subject === 'string' ? ce.subject : undefined, 'refs/');
  if (ref === undefined) throw malformed('Realtime Database event names no ref', 'ref', 'the ref path (extension `ref` or subject `refs/…`)');
  if (!isRecord(data)) throw malformed('Realtime Database event data is not { data, delta }', 'data', '{ data, delta }');
  const before = data.data ?? null;
  const after = applyDelta(before, data.delta ?? null);
  const op = opFrom(verb, before, after);
  const path = ref.replace(/^\/+/, '');
  const trigger: ChangeTrigger = {
    kind: 'change',
    source: 'firebase-rtdb',
    collection: parentOf(path),
    op,
    key: path,
    sequence: undefined,
    ...(before === null ? {} : { before }),
    ...opt('time', typeof ce.time === 'string' ? ce.time : undefined),
    batchIndex: 0,
    batchSize: 1,
  };
  return { trigger, deliveryId: id, payload: () => (op === 'delete' ? before : after) };
}
