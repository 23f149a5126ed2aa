/**
 * The S3 client of the tests and of their child processes, for a local server: path-style,
 * test credentials. Its own module (no service helpers) so the children's bundles stay small.
 */
import { S3Client } from '@aws-sdk/client-s3';

/** An S3 client for `endpoint`. `defaults: true` keeps the SDK's default checksums (to test the probe's fallback). */
export function s3Client(endpoint: string, options: { defaults?: boolean } = {}): S3Client {
  return new S3Client({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
    ...(options.defaults ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
  });
}
