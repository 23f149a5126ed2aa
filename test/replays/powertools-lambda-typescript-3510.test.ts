/**
 * aws-powertools/powertools-lambda-typescript#3510 (fixed by PR #3513)
 * https://github.com/aws-powertools/powertools-lambda-typescript/issues/3510
 *
 * The parser's SQS envelope ran `JSON.parse` on every message body, so a plain-text message
 * (`aws sqs send-message --message-body 'hello'`) failed with "Unexpected token 'h'" even when
 * the schema asked for a string.
 *
 * steadyfn's default `body: 'auto'` keeps text that is not JSON as the text itself. Replayed:
 * the report's `hello` body beside a JSON one, validated by `z.string()` and by a union; the
 * text runs as `'hello'`, nothing fails.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, sqsRecord } from './support.js';

describe('powertools-lambda-typescript#3510: a plain-text SQS body is not parsed as JSON', () => {
  it("the report's 'hello' body reaches a z.string() function as 'hello'; the batch answers no failures", async () => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined, input: z.string() }, (text) => {
      seen.push(text);
    });
    const answer = await main.aws({ Records: [sqsRecord('hello', { id: 'm-1' })] }, lambdaContext());
    expect(seen).toEqual(['hello']);
    expect(answer).toEqual({ batchItemFailures: [] });
  });

  it('text and JSON bodies in one batch each reach the function as what they are', async () => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined, input: z.union([z.string(), z.object({ orderId: z.string() })]) }, (body) => {
      seen.push(body);
    });
    const answer = await main.aws({ Records: [sqsRecord('hello world', { id: 'm-1' }), sqsRecord('{"orderId":"o-1"}', { id: 'm-2' })] }, lambdaContext());
    expect(seen.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(['hello world', { orderId: 'o-1' }].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
    expect(answer).toEqual({ batchItemFailures: [] });
  });
});
