/**
 * middyjs/middy#646 ("Update `s3-key-normalization` to apply to nested sqs/sns wrappers")
 * https://github.com/middyjs/middy/issues/646
 *
 * middy's S3 key normalizer decoded the object key (`+` → space, `%XX` → the character) only
 * for an S3 event delivered directly; an S3 notification wrapped in SNS, in SQS, or SNS then
 * SQS kept the raw URL-encoded key, so `GetObject` on it failed with NoSuchKey.
 *
 * steadyfn reads an S3 notification the same way whichever route carried it. Replayed: the
 * same S3 `ObjectCreated:Put` record with a key holding a space, a plus, a colon, parentheses
 * and non-ASCII text, direct, inside SQS, and inside SNS inside SQS; the function gets the same
 * decoded key each time.
 */
import { handler } from '../../packages/handler/src/index.js';
import { storageObject } from '../../packages/handler/src/schemas.js';
import { describe, expect, it } from 'vitest';
import { lambdaContext, s3Notification, snsEnvelope, sqsRecord } from './support.js';

const RAW_KEY = 'reports/2024+Q1/a%2Bb%3A%281%29+%C3%A9t%C3%A9.csv';
const KEY = 'reports/2024 Q1/a+b:(1) été.csv';

describe('middy#646: an S3 key is decoded in SQS and SNS→SQS wrappers too', () => {
  it('direct, via SQS and via SNS→SQS the function sees one decoded key', async () => {
    const seen: Array<{ key: string; via: unknown }> = [];
    const main = handler({ logSink: () => undefined, input: storageObject() }, (object, ctx) => {
      seen.push({ key: object.key, via: ctx.trigger.kind === 'storage' ? ctx.trigger.via : undefined });
    });
    const notification = s3Notification('uploads', RAW_KEY);
    await main.aws(notification, lambdaContext());
    const viaSqs = await main.aws({ Records: [sqsRecord(JSON.stringify(notification), { id: 'm-1' })] }, lambdaContext());
    const viaSnsSqs = await main.aws({ Records: [sqsRecord(snsEnvelope(JSON.stringify(notification)), { id: 'm-2' })] }, lambdaContext());
    expect(viaSqs).toEqual({ batchItemFailures: [] });
    expect(viaSnsSqs).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => s.key)).toEqual([KEY, KEY, KEY]);
    expect(new Set(seen.map((s) => s.via)).size).toBe(3);
  });
});
