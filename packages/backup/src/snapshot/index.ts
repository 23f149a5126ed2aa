/**
 * `snapshotBackup()`: a scheduled full backup of a MongoDB database or a Redis keyspace to S3,
 * run inside a function and resumable across invocations.
 */
import type { RunContext } from '../context.js';
import { resolveSnapshotOptions, type SnapshotBackupOptions } from './options.js';
import { runSnapshot, type SnapshotResult } from './run.js';

/** A snapshot job: call it as a handler function, or `run(ctx)` from anywhere. */
export interface SnapshotJob {
  /** Runs one invocation (the input is ignored): `handler({}, snapshotBackup({...}))`. */
  (input: unknown, ctx?: RunContext): Promise<SnapshotResult>;
  /** Runs one invocation. */
  run(ctx?: RunContext): Promise<SnapshotResult>;
}

/**
 * Defines a snapshot backup job. Each call continues the job's unfinished backup or starts a
 * new one, and returns `{ status: 'complete' }` once the manifest is committed, or
 * `{ status: 'checkpointed' }` when it stopped at the deadline (the next call continues).
 *
 * Options are validated now; S3 is first probed on the first call.
 *
 * @example
 * import { handler } from '@steadyfn/handler';
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { mongoSource, snapshotBackup } from '@steadyfn/backup';
 *
 * export const nightly = handler({}, snapshotBackup({
 *   source: mongoSource({ db: async () => (await store.get()).db }),
 *   target: { client: new S3Client({}), bucket: 'backups', prefix: 'shop' },
 *   stream: 'orders', // records the stream backup's position for point-in-time restore
 * }));
 * @throws {ConfigurationError} an invalid option (when defined)
 * @throws {LeaseHeldError} another runner is running this job (retryable)
 * @throws {StorageError} an S3 failure (retryable, except `retryable: false` when S3 refused the request — AccessDenied, NoSuchBucket, bad credentials): after a retryable one (throttling, a 5xx, a reset connection) the open upload and its acknowledged parts stay in the checkpoint and the next run continues after them; after a terminal one (`AccessDenied`, `NoSuchBucket`, a refused checksum) the upload was aborted
 * @throws {FencedError} another runner took the job over (retryable)
 */
export function snapshotBackup(options: SnapshotBackupOptions): SnapshotJob {
  const resolved = resolveSnapshotOptions(options);
  const run = (ctx?: RunContext): Promise<SnapshotResult> => runSnapshot(resolved, ctx);
  const job = ((_input: unknown, ctx?: RunContext) => run(ctx)) as SnapshotJob;
  job.run = run;
  return job;
}

export type { SnapshotBackupOptions } from './options.js';
export type { SnapshotResult, SnapshotCheckpoint } from './run.js';
