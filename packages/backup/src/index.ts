/**
 * `@steadyfn/backup`: scheduled snapshot and streaming backups of MongoDB-compatible stores and
 * Redis to S3, run inside a function; verified, restorable to a point in time.
 *
 * @packageDocumentation
 */
export { snapshotBackup } from './snapshot/index.js';
export type { SnapshotJob, SnapshotBackupOptions, SnapshotResult, SnapshotCheckpoint } from './snapshot/index.js';
export { mongoSource } from './sources/mongo.js';
export type { MongoSourceOptions, MongoDbLike } from './sources/mongo.js';
export { redisSource } from './sources/redis.js';
export type { RedisSourceOptions, RedisLike, RedisPipelineLike } from './sources/redis.js';
export type { SnapshotSource, SnapshotRecord, DatasetInfo, SourceDescription, ClientInput } from './sources/types.js';
export type { S3Target } from './target.js';
export type { S3Sender } from './s3/client.js';
export type { S3Capabilities } from './s3/probe.js';
export { probeS3 } from './s3/probe.js';
export type { RunContext, LogLike } from './context.js';
export { parseManifest, MANIFEST_FORMAT_VERSION } from './format/manifest.js';
export type { Manifest, ManifestDataset, ManifestSegment, ManifestPart, PositionMark } from './format/manifest.js';
export { ContentHash } from './format/content-hash.js';
// The typed errors, by name: errors.ts's helpers (how driver and SDK errors become them) stay internal.
export { ConfigurationError } from '@steadyfn/handler/internal';
export { BackupError, type BackupProblem } from './error-base.js';
export {
  BackupNotFoundError,
  BackupCorruptedError,
  BackupIncompleteError,
  UnsupportedFormatError,
  TimelineGapError,
  TimelinePartialError,
  PitrTargetError,
  PitrPartialError,
  LeaseHeldError,
  FencedError,
  StorageError,
  BackupChangedError,
  StreamPrunedError,
  VerificationFailedError,
  RetentionDeleteError,
  type PrunedThrough,
} from './errors-backup.js';
export { SourceReadError, SourceRefusedError, SourceRecordInvalidError, SourceChangedError } from './errors-source.js';
export {
  RestoreUnsupportedError,
  IndexConflictError,
  IndexBuildError,
  RestoreApplyError,
  RestoreTargetUnavailableError,
  RestoreTargetRefusedError,
  RestoreTargetBusyError,
  RestoreTargetNotEmptyError,
  RestoreTargetPartialError,
} from './errors-restore.js';
export { restore } from './restore/index.js';
export type { RestoreOptions, RestoreReport, BackupRef } from './restore/index.js';
export { mongoTarget } from './restore/mongo.js';
export type { MongoTargetOptions } from './restore/mongo.js';
export { redisTarget } from './restore/redis.js';
export type { RedisTargetOptions } from './restore/redis.js';
export type { RestoreTarget, PreparedRestore, ChangeToApply, ScratchMarker, RestoreMarker, RestoreIdentity, RestoreKind, RestoreLockPlace } from './restore/targets.js';
export { restoreStatus } from './restore/restore-status.js';
export type { RestoreNotice, RestoreNoticeCode } from './restore/notices.js';
export type { RestoreStatus } from './restore/restore-status.js';
export type { IfTargetNotEmpty } from './restore/not-empty.js';
export { streamBackup } from './stream/index.js';
export type { StreamBackupOptions, StreamJob } from './stream/index.js';
export type { StreamResult, StreamCheckpoint } from './stream/run.js';
export type { StreamRecord, StreamSource, PulledBatch, StreamNotice } from './stream/types.js';
export { redisStreamSource } from './stream/sources/redis-stream.js';
export type { RedisStreamSourceOptions } from './stream/sources/redis-stream.js';
export { mongoWatermarkSource } from './stream/sources/mongo-watermark.js';
export type { MongoWatermarkSourceOptions } from './stream/sources/mongo-watermark.js';
// sqsSource is in `@steadyfn/backup/sqs` (src/sqs.ts): it loads @aws-sdk/client-sqs, an optional peer.
export { SqsClaimCheckError, type SqsClaimCheckCode, type SqsClaimCheckReader } from './stream/sources/sqs-claim-check.js';
export type { OutboxEnvelope } from './stream/sources/outbox.js';
export { pointInTimeRestore } from './restore/pitr.js';
export { restoreStream } from './restore/stream-restore.js';
export type { PointInTimeRestoreOptions, PointInTimeReport } from './restore/pitr.js';
export type { RestoreStreamOptions, RestoreStreamReport } from './restore/stream-restore.js';
export { verifyBackup } from './verify/index.js';
export type { VerifyBackupOptions, VerifyResult, DrillReport } from './verify/index.js';
export type { DrillScratch } from './verify/scratch.js';
export type { DrillIndexCheck } from './verify/drill-indexes.js';
export type { IndexDefinition } from './restore/mongo-indexes.js';
export type { VerificationRecord } from './verify/record.js';
export { applyRetention } from './retention.js';
export type { RetentionOptions, RetentionReport } from './retention.js';
export type { ProbeLeftoverReport } from './retention-probes.js';
export type { OrphanReport } from './retention-orphans.js';
export type { StreamOrphanReport } from './retention-streams.js';
export type { DamagedObject, DamagedHourIndex, DamagedStreamCheckpoint, DamagedStreamPrunedRecord, DamagedVerificationRecord } from './retention-damaged.js';
export type { StopReason } from './retention-budget.js';
