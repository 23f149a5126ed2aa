/**
 * `gunzipLines` splits the decompressed text into lines wherever zlib's chunks end: lines far
 * longer than a chunk (a document of several MiB), many lines per chunk, empty lines, and
 * multi-byte characters cut between two chunks all come back as written; a last line without
 * its newline is a truncation.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipLines } from './ndjson.js';

async function lines(body: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  for await (const line of gunzipLines(body)) out.push(line);
  return out;
}

describe('gunzipLines', () => {
  it('returns every line as written, whatever the chunk boundaries', async () => {
    const written = [
      '',
      'short',
      // Longer than many 16 KiB zlib chunks, with 2-, 3- and 4-byte characters crossing their boundaries.
      `{"s":"${'é€𝄞x'.repeat(300_000)}"}`,
      '',
      ...Array.from({ length: 5_000 }, (_, i) => `{"_id":${i},"t":"${'ü'.repeat(i % 7)}"}`),
      'x'.repeat(3 * 1024 * 1024),
      'last',
    ];
    expect(await lines(gzipSync(`${written.join('\n')}\n`))).toEqual(written);
    expect(await lines(gzipSync(''))).toEqual([]);
    expect(await lines(gzipSync('\n\n'))).toEqual(['', '']);
  });

  it('rejects a last line without its newline, long or short', async () => {
    await expect(lines(gzipSync('a\nb'))).rejects.toThrow(/truncated/);
    await expect(lines(gzipSync(`a\n${'y'.repeat(100_000)}`))).rejects.toThrow(/truncated/);
  });
});
