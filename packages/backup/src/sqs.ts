/**
 * `@steadyfn/backup/sqs`: an SQS queue as a streaming source (`sqsSource`). Its own entry so
 * that only a stream backup of a queue reaches `@aws-sdk/client-sqs` (an optional peer of this
 * package, loaded on first use): a bundle of a backup that reads no queue needs no SQS SDK
 * installed and no `--external` flag.
 *
 * @example
 * import { SQSClient } from '@aws-sdk/client-sqs';
 * import { sqsSource } from '@steadyfn/backup/sqs';
 *
 * const source = sqsSource({ client: new SQSClient({}), queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders' });
 *
 * @packageDocumentation
 */
export { sqsSource } from './stream/sources/sqs.js';
export type { SqsSourceOptions } from './stream/sources/sqs.js';
