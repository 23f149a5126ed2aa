/**
 * The backup target (an S3 bucket and prefix) and the key layout under it:
 *
 * ```
 * <prefix>/backups/<backupId>/manifest.json                   written last: the backup exists once it does
 * <prefix>/backups/<backupId>/data/<dataset>/<n>.ndjson.gz    segments (multi-member gzip NDJSON)
 * <prefix>/backups/<backupId>/verification.json               the last verification's result
 * <prefix>/jobs/<job>/lease.json | checkpoint.json            a snapshot job's lease and progress
 * <prefix>/jobs/<job>/source.json                             the source the job backs up (snapshot/job-source.ts)
 * <prefix>/streams/<name>/lease.json | checkpoint.json        a stream backup's lease and position
 * <prefix>/streams/<name>/pruned.json                         how far retention pruned the stream
 * <prefix>/streams/<name>/t<timeline>/<yyyy>/<mm>/<dd>/<hh>/index.json   hourly index of stream objects
 * <prefix>/streams/<name>/t<timeline>/<yyyy>/<mm>/<dd>/<hh>/<seq>_<first>_<last>_<sha>.ndjson.gz
 * <prefix>/drills/<backupId>/<drillId>.json                   restore drill reports
 * <prefix>/retention/lease.json                               the lease of the retention run
 * <prefix>/retention/streams-cursor.json                      where the next stream sweep continues
 * <prefix>/retention/backups-pass/<scope>/<policy>.json        where the next pass over backups/ continues (retention-pass.ts;
 *                                                              scope: all | job=<job>&stream=<stream>; policy:
 *                                                              keepLast=<n>&keepMs=<ms>&pitrWindowMs=<ms>)
 * ```
 */
import { awsClientOption, checkKnownKeys, invalidOption, keysOf, s3BucketOption } from '@steadyfn/handler/internal';
import { joinKey, type S3Location, type S3Sender } from './s3/client.js';

/** Where backups are written. */
export interface S3Target {
  /**
   * An `S3Client` (or anything with its `send`). Create it with
   * `requestChecksumCalculation: 'WHEN_REQUIRED'` for S3-compatible servers that break on the
   * SDK's default CRC checksums; the start-up probe also detects that and falls back.
   */
  client: S3Sender;
  /**
   * An S3 bucket name under S3's current rule (3-63 characters of a-z 0-9 . -, starting and
   * ending with a letter or digit, no `..`, not an IP address; directory buckets and access point
   * aliases are such names), or an access point ARN: `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`,
   * or an S3 on Outposts access point (`arn:<partition>:s3-outposts:…:outpost/<op-…>/accesspoint/<name>`),
   * partition `aws`, `aws-cn` or `aws-us-gov`. Anything else is refused (`CONFIG_INVALID`,
   * field `<path>.bucket`) — legacy us-east-1 names from before March 2018 with capitals or `_`
   * included.
   *
   * A Multi-Region Access Point (`arn:<partition>:s3::<account>:accesspoint/<alias>.mrap`) is
   * taken only where nothing is decided by a write: by `restore`, `pointInTimeRestore` and
   * `restoreStream` (they only read, and check everything they read against the manifest,
   * checkpoint and indexes, so a replica that is behind gives an older `'latest'` or a refusal,
   * never other data; the SDK then needs SigV4a, e.g. `@aws-sdk/signature-v4-crt`). It is refused
   * by `snapshotBackup`, `streamBackup` and `applyRetention` (their leases' conditional writes
   * would be checked in one region only, so two runs could both hold one) and by `verifyBackup`
   * (its verdict, which retention and point-in-time restore trust, would be about the one
   * replica the access point routed to, and a replica behind — S3 replication keeps no order
   * between objects — would record a sound backup as failed).
   */
  bucket: string;
  /**
   * Key prefix: '/'-separated segments, without leading or trailing slash; a segment that is
   * empty (`a//b`), `.` or `..`, or has spaces at its ends (` shop`), or a control character, is
   * refused (`CONFIG_INVALID`, field `<path>.prefix`). @default ''
   */
  prefix?: string;
}

/** The keys of an `S3Target` (the client itself is the SDK's: never looked inside). */
export const S3_TARGET_KEYS = keysOf<S3Target>({ client: true, bucket: true, prefix: true });

/**
 * What a caller does with the storage, for the Multi-Region Access Point rule (see
 * `S3Target.bucket`): `'lease'` — conditional writes decide who runs (backups, retention:
 * refused); `'verdict'` — writes a verification record others trust (`verifyBackup`: refused);
 * `'read'` — only reads and checks (restores: taken).
 */
export type StorageUse = 'lease' | 'verdict' | 'read';

/** An access point ARN `s3BucketOption` took that routes to several regions. */
const MULTI_REGION_ACCESS_POINT = /^arn:[a-z-]+:s3::\d{12}:accesspoint\/[a-z0-9]+\.mrap$/;

/**
 * Validates a target option and returns the location.
 *
 * @param path - Where the option sits, for error fields: `target`, `storage`, `backup.storage`.
 * @param use - What the caller does with it (a Multi-Region Access Point is taken for `'read'` only). @default 'lease'
 * @throws {ConfigurationError} a bad or unknown key (e.g. `storage.prefx`), or a Multi-Region Access Point where `use` is not `'read'`
 */
export function toLocation(owner: string, target: unknown, path = 'target', use: StorageUse = 'lease'): S3Location {
  if (target === null || typeof target !== 'object') invalidOption(owner, path, 'an object { client, bucket, prefix? }', target);
  checkKnownKeys(owner, path, target, S3_TARGET_KEYS);
  const t = target as Partial<S3Target>;
  // An SQSClient has a send too: refused by its config.serviceId, not at the first write.
  awsClientOption(owner, `${path}.client`, t.client, 'S3', 'an S3Client (an object with send())');
  // The job, stream and retention leases are s3LeaseStores on the same bucket: the same rule,
  // access points included, Multi-Region Access Points refused (a conditional write is checked
  // in one region only). A restore only reads: it takes one.
  const bucket = s3BucketOption(owner, `${path}.bucket`, t.bucket, { accessPoints: true, conditionalWrites: use === 'lease' });
  if (use === 'verdict' && MULTI_REGION_ACCESS_POINT.test(bucket)) {
    const why = "its verdict, which retention and point-in-time restore trust, would be about the one replica the access point routes to, and a replica behind (S3 replication keeps no order between objects) would record a sound backup as failed; verify through the bucket's name or a single-region access point";
    invalidOption(owner, `${path}.bucket`, `an S3 bucket name or a single-region access point ARN, not a Multi-Region Access Point (${why})`, bucket);
  }
  const prefix = t.prefix ?? '';
  if (typeof prefix !== 'string' || !validPrefix(prefix)) invalidOption(owner, `${path}.prefix`, PREFIX_RULE, prefix);
  return { client: t.client, bucket, prefix };
}

const PREFIX_RULE = "a key prefix of '/'-separated segments, without leading or trailing slash: each segment not empty (no '//'), not '.' or '..', without spaces at its ends or control characters";

/**
 * Whether `prefix` is '' or segments joined by '/', each one a folder a reader finds again: an
 * empty segment (`a//b`), `.` or `..` (which S3 keeps as is, but tools and copies normalise
 * away) and spaces at a segment's ends (` shop`, a typo that writes beside `shop`) are refused.
 */
function validPrefix(prefix: string): boolean {
  if (prefix === '') return true;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(prefix)) return false;
  return prefix.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..' && segment.trim() === segment);
}

/** Keys of the layout above. */
export const keys = {
  backupsRoot: (loc: S3Location) => joinKey(loc.prefix, 'backups') + '/',
  backup: (loc: S3Location, id: string) => joinKey(loc.prefix, 'backups', id),
  manifest: (loc: S3Location, id: string) => joinKey(loc.prefix, 'backups', id, 'manifest.json'),
  verification: (loc: S3Location, id: string) => joinKey(loc.prefix, 'backups', id, 'verification.json'),
  segment: (loc: S3Location, id: string, dataset: string, index: number) =>
    joinKey(loc.prefix, 'backups', id, 'data', encodeURIComponent(dataset), `${String(index).padStart(5, '0')}.ndjson.gz`),
  /** Relative to the prefix: the lease store adds it. */
  jobLease: (job: string) => joinKey('jobs', encodeURIComponent(job), 'lease.json'),
  jobCheckpoint: (loc: S3Location, job: string) => joinKey(loc.prefix, 'jobs', encodeURIComponent(job), 'checkpoint.json'),
  streamLease: (name: string) => joinKey('streams', encodeURIComponent(name), 'lease.json'),
  streamCheckpoint: (loc: S3Location, name: string) => joinKey(loc.prefix, 'streams', encodeURIComponent(name), 'checkpoint.json'),
  streamPruned: (loc: S3Location, name: string) => joinKey(loc.prefix, 'streams', encodeURIComponent(name), 'pruned.json'),
  streamHour: (loc: S3Location, name: string, timeline: number, hour: number) => {
    const d = new Date(hour);
    const p2 = (n: number) => String(n).padStart(2, '0');
    return joinKey(loc.prefix, 'streams', encodeURIComponent(name), `t${timeline}`, String(d.getUTCFullYear()), p2(d.getUTCMonth() + 1), p2(d.getUTCDate()), p2(d.getUTCHours()));
  },
  /** Relative to the prefix: the lease store adds it. */
  retentionLease: () => joinKey('retention', 'lease.json'),
  retentionCursor: (loc: S3Location) => joinKey(loc.prefix, 'retention', 'streams-cursor.json'),
  drill: (loc: S3Location, backupId: string, drillId: string) => joinKey(loc.prefix, 'drills', backupId, `${drillId}.json`),
};
