/**
 * Shared shapes for the peer bug replays in this folder: Lambda records and contexts built as
 * the provider sends them (field for field from the AWS developer guides' samples).
 */
import { randomUUID } from 'node:crypto';

export type Json = Record<string, any>;

/** A Lambda context with `remainingMs` left (the clock runs). */
export function lambdaContext(remainingMs = 30_000, functionName = 'replay'): { awsRequestId: string; functionName: string; getRemainingTimeInMillis(): number } {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId: randomUUID(), functionName, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

/** An SQS record; `groupId` makes it a FIFO queue's record (`orders.fifo`). */
export function sqsRecord(body: string, opts: { id?: string; groupId?: string; seq?: number } = {}): Json {
  const fifo = opts.groupId !== undefined;
  return {
    messageId: opts.id ?? randomUUID(),
    receiptHandle: `AQEB${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1741945024000',
      SenderId: 'AROAEXAMPLEROLEID:producer',
      ApproximateFirstReceiveTimestamp: '1741945024112',
      ...(fifo ? { MessageGroupId: opts.groupId, MessageDeduplicationId: randomUUID(), SequenceNumber: String(18880965000000000000n + BigInt(opts.seq ?? 0)) } : {}),
    },
    messageAttributes: {},
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${fifo ? 'orders.fifo' : 'orders'}`,
    awsRegion: 'eu-west-1',
  };
}

/** The body SNS writes into SQS without raw message delivery (SNS developer guide, "JSON formats"). */
export function snsEnvelope(message: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:uploads',
    Subject: null,
    Message: message,
    Timestamp: '2025-03-14T10:02:11.512Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
    SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
    UnsubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:uploads:3a1f6f4c',
    MessageAttributes: {},
  });
}

/** An S3 `ObjectCreated:Put` notification for `rawKey` as S3 writes it (URL-encoded, `+` for a space). */
export function s3Notification(bucket: string, rawKey: string): Json {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: '2025-03-14T10:02:11.204Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE' },
        requestParameters: { sourceIPAddress: '203.0.113.24' },
        responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'on-upload',
          bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
          object: { key: rawKey, size: 48213, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0062E99A88DC407460' },
        },
      },
    ],
  };
}

/** Log lines kept in memory, parsed. */
export function logLines(): { sink: (line: string) => void; lines: Json[] } {
  const lines: Json[] = [];
  return { lines, sink: (line: string) => lines.push(JSON.parse(line)) };
}
