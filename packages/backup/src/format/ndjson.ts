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

/** Yields each line (without newline) of gzip-compressed NDJSON; rejects on a corrupt or truncated stream. */
export async function* gunzipLines(body: Uint8Array): AsyncGenerator<string> {
  const gunzip = Readable.from([body]).pipe(createGunzip());
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield line;
  }
  rest += decoder.end();
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
