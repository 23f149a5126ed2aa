/**
 * What a snapshot source gives the backup: a description of the server and its datasets
 * (collections, a keyspace), then, per dataset, its records in a resumable order.
 */

/** One record of a dataset, ready to be written. */
export interface SnapshotRecord {
  /** Sort key, recorded as a part's first/last key (canonical EJSON of `_id`; the Redis key). */
  key: string;
  /** The NDJSON line (no newline). */
  line: string;
  /** This record's contribution to the dataset's order-independent content hash (32 bytes). */
  digest: Uint8Array;
  /** Where to resume after this record (JSON; stored in checkpoints). */
  resume: unknown;
}

/** A dataset as the manifest describes it. */
export interface DatasetInfo {
  name: string;
  kind: 'mongodb-collection' | 'redis-keyspace';
  encoding: 'ejson' | 'dump' | 'typed' | 'mixed';
  options?: Record<string, unknown>;
  indexes?: Array<{ name: string; key: Record<string, unknown>; options: Record<string, unknown> }>;
}

/** The server behind a source. */
export interface SourceDescription {
  kind: 'mongodb' | 'redis';
  engine: string;
  serverVersion: string;
  database?: string;
  rdbVersion?: number;
  cluster?: boolean;
  datasets: DatasetInfo[];
  /** MongoDB: the views' definitions (saved in the manifest, recreated by a restore after the collections). */
  views?: Array<{ name: string; viewOn: string; pipeline: string; collation?: Record<string, unknown> }>;
  /** Things a restore should know (documents FerretDB cannot store, keys that expired during the backup…). */
  warnings: string[];
}

/** A source of snapshot records. Sources are plain objects; build them with `mongoSource()` or `redisSource()`. */
export interface SnapshotSource {
  readonly kind: 'mongodb' | 'redis';
  /** Reads the server's version and the datasets to back up (with indexes and options). */
  describe(signal?: AbortSignal): Promise<SourceDescription>;
  /** The server's clock, ISO, when it reports one. */
  serverTime(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Records of `dataset` (as `describe` gave it) from the start, or after `resume` (a record's
   * `resume`). On a resume, `history` gives the lines the backup already holds for the dataset
   * (a source whose resume can repeat records drops them by it).
   */
  read(dataset: DatasetInfo, resume: unknown, signal?: AbortSignal, history?: AsyncIterable<string>): AsyncIterable<SnapshotRecord>;
  /** Warnings found while reading in this process (keys that expired between SCAN and DUMP…). */
  notes?(): string[];
  /**
   * Whether a backup `describe` gave `description` for (a job checkpoint's) is this source's:
   * another database, or a Redis source of another pattern, under the same job name on one
   * target is not, and its checkpoint is not resumed. No I/O beyond resolving the client.
   * Without it, only `kind` is compared.
   */
  owns?(description: SourceDescription): Promise<boolean>;
}

/** A value, or a function giving it (sync or async): how clients are passed (e.g. `() => handle.get()` from `@steadyfn/connections`). */
export type ClientInput<T> = T | (() => T | Promise<T>);

/** Resolves a `ClientInput`. */
export async function resolveClient<T>(input: ClientInput<T>): Promise<T> {
  return typeof input === 'function' ? await (input as () => T | Promise<T>)() : input;
}
