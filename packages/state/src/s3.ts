/**
 * `@steadyfn/state/s3`: state sources on S3 — `s3Object`, `s3Json`, `s3Ndjson` — and the
 * snapshot store `s3Snapshot`. Its own entry so that only a function that uses them reaches
 * `@aws-sdk/client-s3` (an optional peer, loaded on first use): a bundle of the root
 * `@steadyfn/state` needs no S3 SDK installed and no `--external` flag.
 *
 * @example
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { defineState } from '@steadyfn/state';
 * import { s3Json } from '@steadyfn/state/s3';
 *
 * const s3 = new S3Client({});
 * const settings = defineState({ sources: { flags: s3Json<{ beta: boolean }>({ client: s3, bucket: 'config', key: 'flags.json' }) } });
 *
 * @packageDocumentation
 */
export { s3Object, s3Json, s3Ndjson } from './sources/s3.js';
export type { S3ObjectOptions, S3SourceOptions, S3Sender } from './sources/s3.js';
export { s3Snapshot } from './eventsourced/s3-snapshot.js';
export type { S3SnapshotOptions } from './eventsourced/s3-snapshot.js';
