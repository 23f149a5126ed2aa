/**
 * Reading gzip NDJSON back: a part (one gzip member) or a whole segment (several members)
 * decoded as a stream and split into lines, so memory stays at one chunk of text.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Yields each line (without newline) of gzip-compressed NDJSON; rejects on a corrupt or truncated stream. */
export async function* gunzipLines(body: Uint8Array): AsyncGenerator<string> {
  const gunzip = Readable.from([body]).pipe(createGunzip());
  let rest = '';
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield line;
  }
  if (rest !== '') throw new Error('the last record has no newline (truncated)');
}
