/** The S3 lease store's options and shape (`s3.ts`). */
import type { CallOptions, LeaseStore } from '../types.js';
import type { S3LeaseClient } from './s3-client.js';

export type { S3LeaseClient } from './s3-client.js';

/** Options of `s3LeaseStore`. */
export interface S3LeaseStoreOptions {
  /** An `S3Client` from `@aws-sdk/client-s3` (an optional peer dependency of this package), or anything with its `send`. */
  client: S3LeaseClient;
  /**
   * An S3 bucket name under S3's current rule (3-63 characters of a-z 0-9 . -, starting and
   * ending with a letter or digit, no `..`, not an IP address; directory buckets and access point
   * aliases are such names), or an access point ARN: `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`,
   * or an S3 on Outposts access point (`arn:<partition>:s3-outposts:…:outpost/<op-…>/accesspoint/<name>`),
   * partition `aws`, `aws-cn` or `aws-us-gov`. Anything else is refused by `s3LeaseStore()` (`CONFIG_INVALID`,
   * field `bucket`) — legacy us-east-1 names from before March 2018 with capitals or `_`
   * included, and a Multi-Region Access Point (`arn:<partition>:s3::<account>:accesspoint/<alias>.mrap`):
   * it routes to the nearest of several asynchronously replicated buckets, so the conditional
   * writes a claim relies on are checked in one region only and two holders could take one lease.
   * Through an access point the conditional writes go too; the first use's probe refuses a
   * target that ignores them.
   */
  bucket: string;
  /**
   * Prepended to every key to make the object key (the store adds no `/`).
   * @default 'lease/'
   */
  prefix?: string;
}

/** A lease store on S3. */
export interface S3LeaseStore extends LeaseStore {
  /**
   * Checks once (runs by itself before the first call) that the server honours conditional
   * writes: `If-None-Match: *` on an existing key and `If-Match` with another ETag must both be
   * refused. Writes and deletes one object under `<prefix>.probe/`.
   * @throws LeaseStoreUnsupportedError when it does not: no lease could keep two holders apart.
   */
  probe(options?: CallOptions): Promise<{ conditionalWrites: true }>;
  /** The object key a lease key is stored under (the prefix added). */
  objectKey(key: string): string;
}
