/**
 * The BSON size of what the embedded outbox stores, measured by the `bson` library (the one the
 * `mongodb` driver is built on: `calculateObjectSize`): the bytes the server keeps, not a count
 * of characters. `bson` is a dependency of this package, not the optional `mongodb` peer, so a
 * bundler resolves it for a function that uses only the Redis outbox; it is loaded on first
 * use, so such a function does not pay for it at cold start.
 */
import type { EmbeddedEvent } from './mongo-shapes.js';

/** `calculateObjectSize` of `bson`. */
export type BsonSize = (doc: object) => number;

let loading: Promise<BsonSize> | undefined;

/**
 * `bson`'s `calculateObjectSize`, imported once.
 *
 * @throws the import's error when `bson` cannot be loaded.
 */
export function bsonSize(): Promise<BsonSize> {
  loading ??= import('bson').then(({ calculateObjectSize }) => (doc: object) => calculateObjectSize(doc));
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
