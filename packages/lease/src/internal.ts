/**
 * `@steadyfn/lease/internal`: S3 helpers shared with the sibling packages (`@steadyfn/backup`)
 * so that none keeps a copy. Not part of the public API: it may change in any release.
 * Application code should not import it.
 *
 * @packageDocumentation
 */
export { conditionalPut, isConditionalConflict, isNotFound, isPreconditionFailed, statusOf } from './stores/s3-client.js';
export type { ConditionalPutRequest, ConditionalPutResult, S3LeaseClient } from './stores/s3-client.js';
