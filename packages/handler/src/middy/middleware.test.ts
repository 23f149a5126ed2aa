/**
 * steadyfn plugins as middlewares of the real `@middy/core` (7), next to a real Powertools
 * middleware (`injectLambdaContext` of `@aws-lambda-powertools/logger`), on the Lambda event
 * fixtures the adapter tests use.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, currentContext, TerminalError, type Context, type Plugin } from '../index.js';
import { powertoolsLogSink } from '../logging.js';
import { steadyContext, steadyHandler, toMiddy } from '../middy.js';
import { advance, useFakeClock, useRealClock, watch } from '../../test/support/clock.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = (id = 'req-1', remainingMs = 30_000) => ({
  awsRequestId: id,
  functionName: 'orders',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => remainingMs,
});
const httpEvent = (body: unknown = { sku: 'lamp' }) => ({ ...fixture('apigw-v2-post.json'), isBase64Encoded: false, body: JSON.stringify(body) });

/** A plugin that records its hooks (with its own per-invocation state) into `log`. */
function recording(name: string, log: string[], extra: Partial<Plugin<any, { n: number }>> = {}): Plugin<{ [k: string]: number }, { n: number }> {
  return {
    name,
    state: () => ({ n: 0 }),
    extend: (_ctx, state) => (log.push(`${name}.extend`), { [name]: ++state.n }),
    before: (_ctx, state) => void log.push(`${name}.before:${++state.n}`),
    after: (_ctx, _result, state) => void log.push(`${name}.after:${++state.n}`),
    onError: (_ctx, error) => void log.push(`${name}.onError:${error.code}`),
    finally: (_ctx, outcome) => void log.push(`${name}.finally:${outcome.ok}`),
    ...extra,
  };
}

describe('hooks on middy', () => {
  it('run in steadyfn order around the handler, with one ctx built from the Lambda event', async () => {
    const log: string[] = [];
    let seen: Context | undefined;
    const main = middy(
      steadyHandler(async (event: Json, _context, ctx) => {
        seen = ctx;
        log.push('handler');
        expect(currentContext()).toBe(ctx);
        expect(ctx.input).toEqual({ sku: 'lamp' });
        return { statusCode: 200, body: JSON.parse(event.body).sku };
      }),
    )
      .use(toMiddy(recording('a', log)))
      .use(toMiddy(recording('b', log)));
    const response = await main(httpEvent(), lambdaContext('http-1') as never);
    expect(response).toEqual({ statusCode: 200, body: 'lamp' });
    expect(log).toEqual(['a.extend', 'a.before:2', 'b.extend', 'b.before:2', 'handler', 'b.after:3', 'a.after:3', 'b.finally:true', 'a.finally:true']);
    expect(seen).toMatchObject({ provider: 'aws', requestId: 'http-1', deliveryId: undefined, functionName: 'orders', a: 1, b: 1 });
    expect(seen!.trigger).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'POST' } });
    expect(typeof seen!.coldStart).toBe('boolean');
    expect(seen!.remainingMs()).toBeGreaterThan(25_000);
  });

  it('answers early from a before (middy early return): no handler, earlier plugins get after and finally', async () => {
    const log: string[] = [];
    let ran = false;
    const main = middy(
      steadyHandler(async () => {
        ran = true;
      }),
    )
      .use(toMiddy(recording('a', log)))
      .use(toMiddy(recording('cache', log, { before: () => ({ answer: { cached: true } }) })))
      .use(toMiddy(recording('c', log)));
    const response = await main(httpEvent(), lambdaContext() as never);
    expect(ran).toBe(false);
    // An answer on HTTP is rendered as handler() renders it, in the event source's shape.
    expect(response).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"cached":true}' });
    expect(log).toEqual(['a.extend', 'a.before:2', 'cache.extend', 'a.after:3', 'cache.finally:true', 'a.finally:true']);
  });

  it('throws errors as middy expects; onError sees a SteadyError and may recover', async () => {
    const log: string[] = [];
    const failing = middy(
      steadyHandler(async () => {
        throw new TerminalError('OUT_OF_STOCK', 'No stock');
      }),
    ).use(toMiddy(recording('a', log)));
    await expect(failing(httpEvent(), lambdaContext() as never)).rejects.toMatchObject({ name: 'TerminalError', code: 'OUT_OF_STOCK' });
    expect(log).toEqual(['a.extend', 'a.before:2', 'a.onError:OUT_OF_STOCK', 'a.finally:false']);

    const recovering = middy(async () => {
      throw new Error('down');
    }).use(toMiddy(recording('fallback', [], { onError: () => ({ answer: { statusCode: 202, body: 'queued' } }) })));
    await expect(recovering(httpEvent(), lambdaContext() as never)).resolves.toEqual({ statusCode: 202, body: 'queued' });
  });

  it('runs wrap hooks around the handler only through steadyHandler; a plain handler fails MIDDY_WRAP_NOT_RUN', async () => {
    let calls = 0;
    const twice: Plugin = { name: 'twice', wrap: async (_ctx, next) => (await next(), next()) };
    const wrapped = middy(steadyHandler(async () => ({ statusCode: 200, body: String(++calls) }))).use(toMiddy(twice));
    await expect(wrapped(httpEvent(), lambdaContext() as never)).resolves.toEqual({ statusCode: 200, body: '2' });

    const plain = middy(async () => ({ statusCode: 200, body: 'x' })).use(toMiddy(twice));
    await expect(plain(httpEvent(), lambdaContext() as never)).rejects.toMatchObject({ code: 'MIDDY_WRAP_NOT_RUN' });
  });

  it('answers DEADLINE_EXCEEDED before Lambda would time out, and aborts ctx.signal', async () => {
    // On a fake clock (test/support/clock.ts): the answer comes at the deadline less the margin, to the millisecond.
    useFakeClock();
    try {
      let signal: AbortSignal | undefined;
      const main = middy(
        steadyHandler(async (_e, _c, ctx) => {
          signal = ctx.signal;
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }),
        // middy's own early timeout off: what answers here is steadyfn's deadline, nothing else.
        { timeoutEarlyInMillis: 0 },
      ).use(toMiddy({ name: 'noop', before: () => undefined }, { deadlineMarginMs: 100 }));
      const started = Date.now();
      const call = watch(main(httpEvent(), lambdaContext('slow', 300) as never));
      await advance(199);
      expect(call.settled).toBe(false);
      await advance(1);
      expect(call.error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
      expect(call.at! - started).toBe(200);
      expect(signal?.aborted).toBe(true);
    } finally {
      await useRealClock();
    }
  });

});

describe('events on middy', () => {
  it('an SQS event of one message is that message (queue trigger, deliveryId); of several, one direct invocation over the event', async () => {
    const seen: Context[] = [];
    const main = middy(async (_event: unknown, context: unknown) => void seen.push(steadyContext(context))).use(toMiddy({ name: 'noop', before: () => undefined }));
    const batch = fixture('sqs-standard-batch.json');
    await main({ Records: [batch.Records[0]] }, lambdaContext() as never);
    await main(batch, lambdaContext() as never);
    expect(seen[0]!.trigger).toMatchObject({ kind: 'queue', source: 'sqs', queue: 'orders' });
    expect(seen[0]!.deliveryId).toBe(batch.Records[0].messageId);
    expect(seen[0]!.input).toEqual({ orderId: 'o-5001', quantity: 1 });
    expect(seen[1]!.trigger).toEqual({ kind: 'direct', source: 'sqs-batch' });
    expect(seen[1]!.input).toBe(batch);
  });

  it('an SQS message carrying an SNS envelope is the notification (Message, SNS attributes, SNS id); snsEnvelope: keep hands over the envelope', async () => {
    const seen: Context[] = [];
    const record = fixture('published/sqs-sns-envelope.json').Records[0];
    const envelope = JSON.parse(record.body as string) as Json;
    const recordCtx = async (_event: unknown, context: unknown) => void seen.push(steadyContext(context));
    await middy(recordCtx).use(toMiddy({ name: 'noop' }))({ Records: [record] }, lambdaContext() as never);
    await middy(recordCtx).use(toMiddy({ name: 'noop' }, { snsEnvelope: 'keep' }))({ Records: [record] }, lambdaContext() as never);
    expect(seen[0]!.input).toEqual({ orderId: 'o-sns1', quantity: 2 });
    expect(seen[0]!.deliveryId).toBe(envelope.MessageId);
    expect(seen[0]!.trigger).toMatchObject({ kind: 'queue', attributes: { orderType: 'order.created' }, sns: { topic: envelope.TopicArn, messageId: envelope.MessageId } });
    expect(seen[1]!.input).toMatchObject({ Type: 'Notification', MessageId: envelope.MessageId });
    expect(seen[1]!.deliveryId).toBe(record.messageId);
  });

  it('refuses a handler with no steadyfn middleware, and a bad plugin up front', async () => {
    expect(() => steadyContext({})).toThrow(expect.objectContaining({ code: 'MIDDY_NO_CONTEXT' }));
    await expect(middy(steadyHandler(async () => 1))(httpEvent(), lambdaContext() as never)).rejects.toMatchObject({ code: 'MIDDY_NO_CONTEXT' });
    expect(() => toMiddy({ name: '' })).toThrow(ConfigurationError);
    expect(() => toMiddy({ name: 'x', before: 1 as never })).toThrow(/use\.0\.before/);
    // A handler() option middy does its own way would be ignored: refused, named.
    for (const option of ['methods', 'input', 'timeoutMs', 'use']) {
      expect(() => toMiddy({ name: 'x' }, { [option]: ['POST'] } as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: option }));
    }
    expect(() =>
      toMiddy({ name: 'x' }, { name: 'orders', deadlineMarginMs: 100, logLevel: 'warn', body: 'json', snsEnvelope: 'keep', logSink: () => undefined, principal: () => 'u1', trustIdentityHeaders: ['alb-oidc'] }),
    ).not.toThrow();
  });
});

describe('with Powertools in the same chain', () => {
  it('injectLambdaContext and a steadyfn plugin logging through powertoolsLogSink write one line format', async () => {
    const logger = new Logger({ serviceName: 'orders' });
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const audited: Plugin = { name: 'audit', after: (ctx) => ctx.log.info('audited', { token: 'secret-token' }) };
      const main = middy(steadyHandler(async () => ({ statusCode: 200, body: 'ok' })))
        .use(injectLambdaContext(logger))
        .use(toMiddy(audited, { logSink: powertoolsLogSink(logger), logLevel: 'info' }));
      await main(httpEvent(), lambdaContext('pt-1') as never);
    } finally {
      process.stdout.write = write;
    }
    const line = lines.map((l) => JSON.parse(l) as Json).find((l) => l.message === 'audited')!;
    // Powertools' Lambda context keys and steadyfn's invocation fields on one line.
    expect(line).toMatchObject({ level: 'INFO', service: 'orders', function_request_id: 'pt-1', function_name: 'orders', requestId: 'pt-1', provider: 'aws', trigger: 'http', token: '[redacted]' });
    expect(typeof line.cold_start).toBe('boolean');
  });
});

describe('steadyHandler: a next() kept past its wrap', () => {
  it('is refused (WRAP_NEXT_AFTER_END) and never runs the function', async () => {
    let later: (() => Promise<unknown>) | undefined;
    const sneaky: Plugin = { name: 'sneaky', wrap: async (_ctx, next) => { later = next; return 'early'; } };
    let ran = 0;
    const main = middy(steadyHandler(async () => { ran++; return 'fn'; })).use(toMiddy(sneaky, { logSink: () => undefined }));
    expect(await main({}, { awsRequestId: 'req-late', functionName: 'f', getRemainingTimeInMillis: () => 60_000 } as never)).toBe('early');
    await expect(later!()).rejects.toMatchObject({ code: 'WRAP_NEXT_AFTER_END' });
    expect(ran).toBe(0);
  });
});
