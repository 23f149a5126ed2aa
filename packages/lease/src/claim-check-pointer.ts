/**
 * The wire format of a claim check, as `@steadyfn/outbox`'s `sqsSender` writes it and both its
 * inbox and `@steadyfn/backup`'s `sqsSource` read it: a message too large for its queue goes to
 * S3, and the SQS message carries attribute `steadyfn.claimCheck` and a pointer body
 * `{"claimCheck":1,"bucket","key","size","sha256"}`; a body holding characters SQS refuses goes
 * base64-encoded with `steadyfn.contentEncoding: base64`. One reading of that format, so the
 * producer's and the readers' checks cannot drift apart. Pure: no S3 SDK, no error classes —
 * each reader turns the verdicts below into its own typed errors (their codes are public:
 * `OUTBOX_SQS_CLAIM_CHECK_*`, `BACKUP_SQS_CLAIM_CHECK_*`).
 */
import { createHash } from 'node:crypto';

/** Message attribute that marks a claim-check pointer body; its value is the pointer format version. */
export const CLAIM_CHECK_ATTRIBUTE = 'steadyfn.claimCheck';
/** Message attribute that marks a base64-encoded body (a body with characters SQS refuses). */
export const CONTENT_ENCODING_ATTRIBUTE = 'steadyfn.contentEncoding';

/** A claim-check pointer (format version 1): where the body is and what it must be. */
export interface ClaimCheckPointerFields {
  bucket: string;
  key: string;
  /** Bytes of the stored body (its UTF-8 encoding). */
  size: number;
  /** SHA-256 of the stored bytes, lowercase hex. */
  sha256: string;
}

/**
 * A pointer body read: the pointer, or why not — `not-json` (a string that does not parse) or
 * `shape` (not `claimCheck` 1 with a string bucket and key, a whole `size` ≥ 0 and a `sha256` of
 * 64 lowercase hex digits).
 */
export type PointerRead = { ok: true; pointer: ClaimCheckPointerFields } | { ok: false; problem: 'not-json' | 'shape' };

/** Reads a pointer body: a JSON string, or the object already parsed (`@steadyfn/handler`'s queue input). */
export function readClaimCheckPointer(body: unknown): PointerRead {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ok: false, problem: 'not-json' };
    }
  }
  const p = value as Partial<Record<keyof ClaimCheckPointerFields | 'claimCheck', unknown>> | null;
  if (
    typeof p !== 'object' || p === null || p.claimCheck !== 1 || typeof p.bucket !== 'string' || typeof p.key !== 'string' ||
    typeof p.size !== 'number' || !Number.isSafeInteger(p.size) || p.size < 0 || typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256)
  ) {
    return { ok: false, problem: 'shape' };
  }
  // Only the pointer's own fields: anything else in the body is not carried along.
  return { ok: true, pointer: { bucket: p.bucket, key: p.key, size: p.size, sha256: p.sha256 } };
}

/** SHA-256 of `bytes`, lowercase hex (the pointer's `sha256`). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether the object read is the one the pointer names: `undefined` when it is, else what
 * differs — `size` (with the bytes read) is checked first, then `sha256`.
 */
export function claimCheckMismatch(stored: Uint8Array, pointer: ClaimCheckPointerFields): { problem: 'size'; bytes: number } | { problem: 'sha256' } | undefined {
  if (stored.length !== pointer.size) return { problem: 'size', bytes: stored.length };
  if (sha256Hex(stored) !== pointer.sha256) return { problem: 'sha256' };
  return undefined;
}

/** A body that was not claim-checked, as its producer wrote it: decoded when it was sent base64-encoded. */
export function decodeSqsBody(text: string, contentEncoding: string | undefined): string {
  return contentEncoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
}
