/**
 * An S3 client (moto) that counts what the code under test pulls out of GetObject bodies, and
 * the GetObject calls in flight at once — measured at the client, not stubbed: the server and
 * the SDK are real, the body is only wrapped so that each chunk read is counted as it passes.
 * With `lie: true` it plays a server that ignores `Range` and a `Content-Length` that lies
 * (says `lie.length` bytes): the bounded read is what is left to guard.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Client } from './sqs-servers.js';

export interface CountingS3 {
  s3: S3Client;
  /** Bytes the caller read from GetObject bodies. */
  bodyBytes: number;
  /** GetObject calls: sent, and the most in flight at once (from the send until the SDK's answer). */
  gets: number;
  peakGets: number;
}

export function countingS3(options: { lie?: { length: number } } = {}): CountingS3 {
  const s3 = s3Client();
  const counts: CountingS3 = { s3, bodyBytes: 0, gets: 0, peakGets: 0 };
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
      // One chunk at a time: what is counted is what the caller asked for, not a read-ahead.
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
