/**
 * `@steadyfn/connections/s3`: AWS SDK v3 S3 clients. Importing this entry needs
 * `@aws-sdk/client-s3` installed; nothing else.
 *
 * @packageDocumentation
 */
export { s3 } from './clients/s3.js';
export type { S3Handle, S3HandleOptions } from './clients/s3.js';
