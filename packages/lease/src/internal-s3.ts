/**
 * `@steadyfn/lease/internal-s3`: the S3 calls of the lease's S3 store, shared with the sibling
 * packages so that none keeps a copy — S3's conditional PUT and a read that returns S3's clock
 * (`@steadyfn/backup`). Its own entry, apart from `@steadyfn/lease/internal`, because it loads
 * `@aws-sdk/client-s3` (an optional peer): a sibling that never touches S3 (`@steadyfn/idempotency`)
 * reaches no S3 SDK through `internal`. Not part of the public API: it may change in any release.
 * Application code should not import it.
 *
 * @packageDocumentation
 */
export { conditionalPut, isConditionalConflict, isNotFound, isPreconditionFailed, readObject, statusOf } from './stores/s3-client.js';
export type { ClockReading, ConditionalPutRequest, ConditionalPutResult, ReadResult, S3LeaseClient } from './stores/s3-client.js';
