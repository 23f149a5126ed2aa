/**
 * Counts, at an S3 client, what the code under test pulls out of GetObject bodies and how many
 * GetObject calls are in flight at once — measured, not stubbed: the server and the SDK are real,
 * the body is only wrapped so that each chunk read is counted as it passes (one chunk at a time,
 * so what is counted is what the caller asked for, not a read-ahead). With `lie` the client plays
 * a server that ignores `Range` and whose `Content-Length` lies (says `lie.length` bytes): the
 * bounded body read is then the guard left. Used by the outbox's and the backup's claim-check tests.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';

/** What `countGetObjects` has seen so far (updated as the client is used). */
export interface GetObjectCounts {
  /** Bytes the caller read from GetObject bodies. */
  bodyBytes: number;
  /** GetObject calls sent. */
  gets: number;
  /** The most GetObject calls in flight at once (from the send until the SDK's answer). */
  peakGets: number;
}

/** Adds the counting middleware (and, with `lie`, the lying server) to `s3`; answers its live counts. */
export function countGetObjects(s3: S3Client, options: { lie?: { length: number } } = {}): GetObjectCounts {
  const counts: GetObjectCounts = { bodyBytes: 0, gets: 0, peakGets: 0 };
  let inFlight = 0;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'GetObjectCommand') return next(args);
      counts.gets++;
      counts.peakGets = Math.max(counts.peakGets, ++inFlight);
      let result;
      try {
        result = await next(args);
      } finally {
        inFlight--;
      }
      const output = result.output as { Body?: AsyncIterable<Uint8Array>; ContentLength?: number; ContentRange?: string };
      const original = output.Body!;
      async function* counted() {
        for await (const chunk of original) {
          counts.bodyBytes += chunk.length;
          yield chunk;
        }
      }
      const body = Readable.from(counted(), { objectMode: true, highWaterMark: 1 });
      output.Body = Object.assign(body, { transformToByteArray: async () => Buffer.concat(await body.toArray()) });
      if (options.lie) {
        output.ContentLength = options.lie.length;
        delete output.ContentRange;
      }
      return result;
    },
    { step: 'initialize', name: 'countGetObjectBodies' },
  );
  if (options.lie) {
    s3.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) for (const name of Object.keys(request.headers)) if (name.toLowerCase() === 'range') delete request.headers[name];
        return next(args);
      },
      { step: 'build', name: 'ignoreRange' },
    );
  }
  return counts;
}
