/**
 * Provider events as the providers send them, for tests that drive the examples and bundles:
 * an API Gateway HTTP API (v2) request and an SQS record, in the shapes AWS documents.
 */
import { randomUUID } from 'node:crypto';

/** An HTTP API (payload format 2.0) `POST /orders` with a JSON body. */
export function apiGatewayV2(body: unknown, headers: Record<string, string> = {}) {
  return {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '127.0.0.1' }, requestId: randomUUID(), domainName: 'x.execute-api.eu-west-1.amazonaws.com' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** One SQS message of a Lambda event-source batch, with a JSON body. */
export function sqsRecord(messageId: string, body: unknown) {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'A', ApproximateFirstReceiveTimestamp: '1700000000001' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
    awsRegion: 'eu-west-1',
  };
}

/** A Pub/Sub push as a CloudEvent in binary content mode (`ce-*` headers), as Cloud Functions receives it. */
export function pubsubCloudEvent(id: string, body: unknown): { method: 'POST'; headers: Record<string, string>; body: string } {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': '//pubsub.googleapis.com/projects/p/topics/orders',
      'ce-id': id,
    },
    body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId: id, attributes: {} }, subscription: 'projects/p/subscriptions/orders' }),
  };
}
