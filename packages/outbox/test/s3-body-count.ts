/**
 * An S3 client (moto) that counts what the code under test pulls out of GetObject bodies, and
 * the GetObject calls in flight at once (test/support/s3-get-counts.ts). With `lie` it plays a
 * server that ignores `Range` and a `Content-Length` that lies (says `lie.length` bytes).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { countGetObjects, type GetObjectCounts } from '../../../test/support/s3-get-counts.js';
import { s3Client } from './sqs-servers.js';

export interface CountingS3 extends GetObjectCounts {
  s3: S3Client;
}

export function countingS3(options: { lie?: { length: number } } = {}): CountingS3 {
  const s3 = s3Client();
  // The counts object is the one the middleware updates: the client is added beside them.
  return Object.assign(countGetObjects(s3, options), { s3 });
}
