/**
 * `@steadyfn/lease/s3`: the lease store on S3 (and S3-compatible servers with conditional
 * writes). Its own entry so that only a function that uses it reaches `@aws-sdk/client-s3` (an
 * optional peer, loaded on first use): a bundle of the root `@steadyfn/lease` needs no S3 SDK
 * installed and no `--external` flag.
 *
 * @example
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { s3LeaseStore } from '@steadyfn/lease/s3';
 *
 * const jobs = s3LeaseStore({ client: new S3Client({}), bucket: 'my-backups', prefix: 'leases/' });
 *
 * @packageDocumentation
 */
export { s3LeaseStore } from './stores/s3.js';
export type { S3LeaseClient, S3LeaseStore, S3LeaseStoreOptions } from './stores/s3.js';
