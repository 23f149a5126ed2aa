/**
 * The export entries of the workspace packages, and which optional driver each exists for:
 * shared by test/packaging.test.ts (an entry's types import no driver but its own) and
 * test/bundle-without-s3.test.ts (every entry but the AWS SDK ones bundles without the S3 SDK).
 */

/** Which optional driver an entry exists for; every other entry imports none. */
export const DRIVER_OF_ENTRY: Readonly<Record<string, string>> = {
  '@steadyfn/connections/redis': 'ioredis',
  '@steadyfn/connections/mongodb': 'mongodb',
  '@steadyfn/connections/s3': '@aws-sdk/client-s3',
  '@steadyfn/connections/sqs': '@aws-sdk/client-sqs',
  '@steadyfn/lease/s3': '@aws-sdk/client-s3',
  '@steadyfn/lease/internal-s3': '@aws-sdk/client-s3',
  '@steadyfn/state/s3': '@aws-sdk/client-s3',
  '@steadyfn/outbox/s3': '@aws-sdk/client-s3',
  '@steadyfn/outbox/sqs': '@aws-sdk/client-sqs',
  '@steadyfn/backup/sqs': '@aws-sdk/client-sqs',
};

/** The import specifier of each entry a package exports (`@steadyfn/x`, `@steadyfn/x/redis`, …), without `./package.json`. */
export function entrySpecifiers(manifest: { name: string; exports: Record<string, unknown> }): string[] {
  return Object.keys(manifest.exports)
    .filter((path) => path !== './package.json')
    .map((path) => (path === '.' ? manifest.name : `${manifest.name}/${path.slice(2)}`));
}
