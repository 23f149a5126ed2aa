/** completed-segment.ts — S3's ETag of a multipart object, from its parts' ETags (pure; the servers' runs are in test/snapshot-upload-completed-kill.test.ts). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { multipartEtag } from './completed-segment.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest();

describe('multipartEtag', () => {
  it('is the MD5 of the parts\' MD5s, then the number of parts', () => {
    const parts = [Buffer.from('first part'), Buffer.from('second part')];
    const expected = `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-2"`;
    expect(multipartEtag(parts.map((p) => ({ etag: `"${md5(p).toString('hex')}"` })))).toBe(expected);
    // Unquoted ETags (some servers) read the same.
    expect(multipartEtag(parts.map((p) => ({ etag: md5(p).toString('hex') })))).toBe(expected);
  });

  it('is undefined when a part\'s ETag is no MD5 (SSE-KMS, some servers)', () => {
    expect(multipartEtag([{ etag: '"not-an-md5"' }])).toBeUndefined();
  });
});
