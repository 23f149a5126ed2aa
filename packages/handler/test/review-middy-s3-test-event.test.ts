/**
 * The middy adapter acknowledges an event with nothing to run, as `handler()` does (review rva).
 * An SQS or SNS event whose message is the `s3:TestEvent` S3 sends when a notification is set
 * up holds no storage item; `handler()` acknowledges it without running the function, but the
 * middy request read the zero items as a `direct` batch (`source: 'sqs-batch'`) and ran the
 * function on the test message. It now answers as `handler()` answers, without calling the
 * handler or any steadyfn hook. Built from test/fixtures/aws/published/s3-test-event-in-sqs.json
 * and Powertools' SNS sample.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { lambdaContext, published, sample, type Json } from './support/published.js';

const S3_TEST_EVENT = JSON.parse(published('aws', 's3-test-event-in-sqs.json').Records[0].body as string) as Json;

function inSns(message: Json): Json {
  const e = sample('aws', 'pt-sns-base.json');
  e.Records[0].Sns.Message = JSON.stringify(message);
  return e;
}

/** A plugin that records each hook it runs. */
function recording(hooks: string[]): Plugin {
  return {
    name: 'p',
    before: () => void hooks.push('before'),
    after: () => void hooks.push('after'),
    finally: () => void hooks.push('finally'),
  };
}

async function viaMiddy(event: Json) {
  const seen: unknown[] = [];
  const hooks: string[] = [];
  const main = middy(steadyHandler((_e, _c, ctx) => (seen.push(ctx.trigger), 'ran'))).use(toMiddy(recording(hooks)));
  const answer = await main(structuredClone(event), lambdaContext() as never);
  return { seen, hooks, answer };
}

async function viaHandler(event: Json) {
  const seen: unknown[] = [];
  const answer = await handler({}, (_i, ctx) => (seen.push(ctx.trigger), 'ran'))(structuredClone(event), lambdaContext());
  return { seen, answer };
}

describe('middy: an event holding only an S3 test event is acknowledged without running', () => {
  const cases: Array<[string, () => Json]> = [
    ['in SQS', () => published('aws', 's3-test-event-in-sqs.json')],
    ['in SNS', () => inSns(S3_TEST_EVENT)],
  ];
  for (const [name, event] of cases) {
    it(name, async () => {
      const direct = await viaHandler(event());
      expect(direct.seen).toEqual([]);
      const run = await viaMiddy(event());
      expect(run.seen).toEqual([]);
      expect(run.hooks).toEqual([]);
      expect(run.answer).toEqual(direct.answer);
    });
  }

  it('an S3 notification in SQS still runs, one storage item', async () => {
    const event = sample('aws', 'pt-s3-sqs-event.json');
    const run = await viaMiddy(event);
    expect(run.seen).toMatchObject([{ kind: 'storage', source: 's3', via: 'sqs' }]);
    expect(run.hooks).toEqual(['before', 'after', 'finally']);
    expect(run.answer).toBe('ran');
  });
});
