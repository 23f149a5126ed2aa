/**
 * A checkpoint's open segment whose multipart upload is gone: was it completed by the run that
 * wrote the checkpoint (killed between `CompleteMultipartUpload` and the checkpoint that would
 * have recorded the segment as sealed), or aborted (another client, a lifecycle rule)? The run
 * saves every part in the checkpoint before it completes a segment (copy.ts), so its completed
 * object is made of exactly the checkpoint's parts. Apart from reconcile.ts, which decides what
 * to do with the answer.
 */
import { createHash } from 'node:crypto';
import { getObject, headObject, type S3Location } from '../s3/client.js';
import type { DonePart } from './checkpoint.js';

/**
 * What is at the open segment's key: `'completed'` — the object the checkpoint's parts make
 * (same size, and the multipart ETag of those parts' ETags or, where the server's ETag is of
 * another form, the SHA-256 of every part's byte range); `'absent'` — no object; `'other'` —
 * an object that is not those parts (other size or bytes).
 */
export async function completedSegment(loc: S3Location, key: string, parts: ReadonlyArray<DonePart>, signal?: AbortSignal): Promise<'completed' | 'absent' | 'other'> {
  const head = await headObject(loc, key, signal);
  if (!head) return 'absent';
  if (head.size !== parts.reduce((sum, p) => sum + p.bytes, 0)) return 'other';
  if (head.etag === multipartEtag(parts)) return 'completed';
  // A server whose ETag of a multipart object is not S3's (or a part ETag that is no MD5): read
  // the parts back, pinned to the object just checked, and compare their SHA-256.
  for (const part of parts) {
    const got = await getObject(loc, key, { range: [part.offset, part.offset + part.bytes - 1], ifMatch: head.etag, ...(signal ? { signal } : {}) });
    if (!got || got.etag !== head.etag || createHash('sha256').update(got.body).digest('hex') !== part.sha256) return 'other';
  }
  return 'completed';
}

/**
 * S3's ETag of an object completed from `parts` (each part's ETag the MD5 of its bytes): the
 * MD5 of the parts' MD5s, then `-<number of parts>`, quoted. Undefined when a part's ETag is no
 * MD5 (SSE-KMS, some servers).
 */
export function multipartEtag(parts: ReadonlyArray<Pick<DonePart, 'etag'>>): string | undefined {
  const md5 = createHash('md5');
  for (const part of parts) {
    const hex = part.etag.replaceAll('"', '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined;
    md5.update(Buffer.from(hex, 'hex'));
  }
  return `"${md5.digest('hex')}-${parts.length}"`;
}
