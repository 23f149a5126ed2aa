/**
 * `@steadyfn/connections/sqs`: AWS SDK v3 SQS clients. Importing this entry needs
 * `@aws-sdk/client-sqs` installed; nothing else.
 *
 * @packageDocumentation
 */
export { sqs } from './clients/sqs.js';
export type { SqsHandle, SqsHandleOptions } from './clients/sqs.js';
