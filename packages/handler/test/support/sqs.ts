/** An SQS message of a Lambda event-source batch, with a JSON body, in the shape AWS documents. */
export function sqsRecord(messageId: string, body: unknown): Record<string, unknown> {
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
