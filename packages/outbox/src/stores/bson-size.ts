/**
 * The BSON size of what the embedded outbox stores, measured by the `bson` library the
 * `mongodb` driver carries (`BSON.calculateObjectSize`): the bytes the server keeps, not a
 * count of characters. Loaded on first use, so `mongodb` stays an optional peer for users of
 * the Redis outbox; embedded mode runs only with it installed.
 */
import type { EmbeddedEvent } from './mongo-shapes.js';

/** `calculateObjectSize` of the driver's `bson`. */
export type BsonSize = (doc: object) => number;

let loading: Promise<BsonSize> | undefined;

/**
 * The driver's `BSON.calculateObjectSize`, imported from `mongodb` once.
 *
 * @throws the import's error when `mongodb` is not installed (embedded mode cannot run then).
 */
export function bsonSize(): Promise<BsonSize> {
  loading ??= import('mongodb').then(({ BSON }) => (doc: object) => BSON.calculateObjectSize(doc));
  // A failed import is retried next time (it may have been a transient resolution failure).
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * Most bytes an array element adds around its document: the type byte and the index as a
 * NUL-terminated key (at most 5 digits: `maxPendingEvents` is at most 100 000) — 7 bytes, 8 allowed.
 */
const ELEMENT_HEADER_BYTES = 8;

/** Bytes one embedded event takes in its document's pending array: its BSON size plus the element header. */
export function embeddedBytes(event: EmbeddedEvent, size: BsonSize): number {
  return size(event) + ELEMENT_HEADER_BYTES;
}
