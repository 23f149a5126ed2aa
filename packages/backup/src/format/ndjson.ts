/**
 * Reading gzip NDJSON back: a part (one gzip member) or a whole segment or stream object
 * (several members) decoded as a stream and split into lines, so memory stays at one chunk of
 * text. Characters split between two decompressed chunks are joined (a UTF-8 decoder, not a
 * `toString` per chunk).
 */
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { BackupCorruptedError, type BackupProblem } from '../errors.js';

/**
 * Yields each line (without newline) of gzip-compressed NDJSON; rejects on a corrupt or truncated stream.
 * Only each new chunk is searched for newlines, and a line's pieces are joined once, when it ends: a
 * line of several MiB (a large MongoDB document) costs time in proportion to its length, not to its
 * length squared.
 */
export async function* gunzipLines(body: Uint8Array): AsyncGenerator<string> {
  const gunzip = Readable.from([body]).pipe(createGunzip());
  const decoder = new StringDecoder('utf8');
  let pieces: string[] = [];
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    const text = decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      pieces.push(text.slice(start, end));
      const line = pieces.length === 1 ? pieces[0]! : pieces.join('');
      pieces = [];
      start = end + 1;
      yield line;
    }
    if (start < text.length) pieces.push(text.slice(start));
  }
  const rest = pieces.join('') + decoder.end();
  if (rest !== '') throw new Error('the last record has no newline (truncated)');
}

/**
 * Hands each line of `body` to `onLine`, in order. A body that is not complete gzip NDJSON
 * (damaged, truncated, not gzip) is corruption of `where`; a `BackupError` from `onLine`
 * passes through.
 * @throws {BackupCorruptedError}
 */
export async function decodeLines(body: Uint8Array, where: string | Omit<BackupProblem, 'message'>, onLine: (line: string) => void): Promise<number> {
  let count = 0;
  try {
    for await (const line of gunzipLines(body)) {
      count++;
      onLine(line);
    }
  } catch (error) {
    if (error instanceof BackupCorruptedError) throw error;
    const problem = typeof where === 'string' ? { key: where } : where;
    throw new BackupCorruptedError('an object does not decode', [{ ...problem, message: 'not valid gzip NDJSON' }]);
  }
  return count;
}
