/**
 * `@steadyfn/outbox`: state change and events in one atomic write, relayed to SQS inside the
 * function, consumed exactly once.
 *
 * @packageDocumentation
 */
export * from './sqs/index.js';
