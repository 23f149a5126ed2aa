/**
 * Each part is one complete gzip member ending on a record boundary; a segment (members
 * concatenated) decodes as one stream with Node's zlib, `gzip -t`/`gzip -dc` and Python's
 * gzip module; a part alone decodes too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipPartEncoder, crc32Base64 } from './gzip-part.js';
import { gunzipLines } from './ndjson.js';

async function part(lines: string[]): Promise<Buffer> {
  const encoder = new GzipPartEncoder(6);
  for (const [i, line] of lines.entries()) await encoder.add(line, String(i));
  const done = await encoder.finish();
  expect(done.records).toBe(lines.length);
  expect(done.firstKey).toBe('0');
  expect(done.lastKey).toBe(String(lines.length - 1));
  expect(done.bytes).toBe(done.body.length);
  return done.body;
}

describe('gzip member per part', () => {
  it('concatenated parts decode as one stream with Node, gzip -t / -dc and Python', async () => {
    const all = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ _id: i, text: `line ${i} ${'x'.repeat(i % 50)}` }));
    const parts = [await part(all.slice(0, 10_000)), await part(all.slice(10_000, 25_000)), await part(all.slice(25_000))];
    const segment = Buffer.concat(parts);
    const expected = `${all.join('\n')}\n`;

    expect(gunzipSync(segment).toString()).toBe(expected);
    const streamed: string[] = [];
    for await (const line of gunzipLines(segment)) streamed.push(line);
    expect(streamed).toEqual(all);
    // A single part alone (a ranged GET) decodes to whole records.
    expect(gunzipSync(parts[1]!).toString()).toBe(`${all.slice(10_000, 25_000).join('\n')}\n`);

    const dir = mkdtempSync(join(tmpdir(), 'steadyfn-gz-'));
    try {
      const file = join(dir, 'segment.ndjson.gz');
      writeFileSync(file, segment);
      execFileSync('gzip', ['-t', file]);
      expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 64 * 1024 * 1024 }).toString()).toBe(expected);
      const python = execFileSync('python3', ['-c', 'import gzip,sys,hashlib; d=gzip.open(sys.argv[1]).read(); print(len(d.splitlines()), hashlib.sha256(d).hexdigest())', file]).toString().trim();
      const { createHash } = await import('node:crypto');
      expect(python).toBe(`${all.length} ${createHash('sha256').update(expected).digest('hex')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a truncated part', async () => {
    const body = await part(['{"a":1}', '{"a":2}']);
    const cut = body.subarray(0, body.length - 6);
    await expect(async () => {
      for await (const _ of gunzipLines(cut)) void _;
    }).rejects.toThrow();
  });

  it("encodes CRC32 the way S3's x-amz-checksum-crc32 does", () => {
    expect(crc32Base64(Buffer.from('hello'))).toBe('NhCmhg==');
  });
});
