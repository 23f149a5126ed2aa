/**
 * aws-powertools/powertools-lambda-typescript#4411
 * https://github.com/aws-powertools/powertools-lambda-typescript/issues/4411
 *
 * With an SNS topic delivering to an SQS queue (no raw message delivery), the parser's
 * SNS→SQS envelope did not parse the notification's JSON `Message`, so a schema for the
 * published object failed with "Failed to parse SQS Record at index 0".
 *
 * steadyfn unwraps the SNS envelope in an SQS body by default and reads its `Message` under the
 * `body` option. Replayed: the report's record (a person object published to SNS, delivered to
 * SQS) validated by the report's schema; the function gets the object.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, snsEnvelope, sqsRecord } from './support.js';

describe('powertools-lambda-typescript#4411: the JSON Message of an SNS notification in SQS is parsed', () => {
  it("the report's person object reaches a schema for it; ctx.trigger.sns names the topic", async () => {
    const person = z.object({ firstName: z.string(), lastName: z.string() });
    const seen: unknown[] = [];
    const topics: unknown[] = [];
    const main = handler({ logSink: () => undefined, input: person }, (p, ctx) => {
      seen.push(p);
      if (ctx.trigger.kind === 'queue') topics.push(ctx.trigger.sns?.topic);
    });
    const body = snsEnvelope(JSON.stringify({ firstName: 'John', lastName: 'Doe' }));
    const answer = await main.aws({ Records: [sqsRecord(body, { id: 'm-1' })] }, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ firstName: 'John', lastName: 'Doe' }]);
    expect(topics).toEqual(['arn:aws:sns:eu-west-1:123456789012:uploads']);
  });
});
