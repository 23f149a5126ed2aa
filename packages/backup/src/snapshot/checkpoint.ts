/**
 * A snapshot job's checkpoint (`jobs/<job>/checkpoint.json`): the backup in progress — its id,
 * start mark, the source's description, and per dataset the finished segments and the open
 * multipart upload with the parts that finished (ETag, checksums, where to resume reading).
 * Read back through its schema: a damaged or foreign object is refused with a typed error.
 * The resume point of a part is the source's own (each source checks it when it resumes).
 */
import { z } from 'zod';
import { hex64, indexSchema, markSchema, sourceServerSchema, viewSchema } from '../format/manifest.js';

const count = z.number().int().min(0);

/** A finished part, as checkpoints and the manifest keep it. */
export const donePartSchema = z.object({
  number: z.number().int().min(1).max(10_000),
  etag: z.string().min(1),
  offset: count,
  bytes: z.number().int().min(1),
  sha256: hex64,
  crc32: z.string(),
  records: count,
  rawBytes: count,
  firstKey: z.string(),
  lastKey: z.string(),
  /** Content-hash sum of the part's records (hex). */
  digest: hex64,
  /** Where to resume reading after this part (the source's, checked by the source). */
  resume: z.unknown(),
});
export type DonePart = z.infer<typeof donePartSchema>;

const segmentSchema = z.object({ index: count, key: z.string().min(1), parts: z.array(donePartSchema) });

/** A dataset's progress. */
export const checkpointDatasetSchema = z.object({
  name: z.string().min(1),
  done: z.boolean(),
  /** Completed segments. */
  segments: z.array(segmentSchema),
  /** The segment being uploaded. */
  current: segmentSchema.extend({ uploadId: z.string().min(1) }).optional(),
});
export type CheckpointDataset = z.infer<typeof checkpointDatasetSchema>;

/** A dataset as the source described it. */
export const datasetInfoSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['mongodb-collection', 'redis-keyspace']),
  encoding: z.enum(['ejson', 'dump', 'typed', 'mixed']),
  options: z.record(z.string(), z.unknown()).optional(),
  indexes: z.array(indexSchema).optional(),
});

/** The server behind a source. */
export const sourceDescriptionSchema = sourceServerSchema.extend({
  datasets: z.array(datasetInfoSchema),
  warnings: z.array(z.string()),
  views: z.array(viewSchema).optional(),
});

export const snapshotCheckpointSchema = z.object({
  formatVersion: z.literal(1),
  job: z.string().min(1),
  backupId: z.string().min(1),
  fence: count,
  owner: z.string(),
  startedAt: z.string(),
  start: markSchema,
  /**
   * The stream (the job's `stream` option) whose start mark is not read yet: a new backup's
   * checkpoint is saved with it before the stream's position is read, then saved again with
   * the mark (`start.stream`). Retention, which lists job checkpoints before it reads the
   * manifests, then never prunes the stream while such a snapshot starts (it cannot know the
   * position it will read). A run that finds it on resume reads the mark then (no part was
   * recorded before it).
   */
  streamPending: z.string().min(1).optional(),
  description: sourceDescriptionSchema,
  datasets: z.array(checkpointDatasetSchema),
  warnings: z.array(z.string()),
  updatedAt: z.string(),
});

/** A snapshot job's checkpoint. */
export type SnapshotCheckpoint = z.infer<typeof snapshotCheckpointSchema>;
