/**
 * A plugin's `extend` that returns an object parsed from JSON (settings read from a store, a
 * feature-flag document) keeps a `"__proto__"` key as an own member. Merged onto `ctx` with
 * `Object.assign`, it replaced ctx's prototype: `ctx.log`, `ctx.signal`, `ctx.remainingMs`
 * were gone, the core's own logging threw, and the invocation rejected with a bare `TypeError`
 * — no typed error, no log line, `onError` and `finally` skipped. It is refused like a core
 * member: a terminal `CONFIG_INVALID` naming the plugin, on the single, batch and middy paths.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';
import { sqsRecord } from './support/sqs.js';

const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const settings: Plugin<{ settings: number }> = { name: 'settings', extend: () => JSON.parse('{"__proto__": {"polluted": true}, "settings": 1}') as { settings: number } };

describe('an extension with an own "__proto__" key', () => {
  it('fails the invocation with a terminal CONFIG_INVALID naming the plugin; onError and finally run; logged', async () => {
    const lines: string[] = [];
    const seen: string[] = [];
    const spy: Plugin = { name: 'spy', onError: (_ctx, error) => void seen.push(`onError:${error.code}`), finally: (ctx) => void seen.push(`finally:${typeof ctx.remainingMs}`) };
    let ran = false;
    const main = handler({ use: [spy, settings], logSink: (line) => void lines.push(line) }, () => {
      ran = true;
    });
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(ran).toBe(false);
    expect(seen).toEqual(['onError:CONFIG_INVALID', 'finally:function']);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === 'CONFIG_INVALID');
    expect(logged).toMatchObject({ msg: 'invocation failed', field: 'use.settings.extend' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('fails every message of an SQS batch (the batch path)', async () => {
    const main = handler({ use: [settings], logSink: () => undefined }, () => undefined);
    const answer = await main.aws({ Records: [sqsRecord('m1', {}), sqsRecord('m2', {})] }, lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
  });

  it('is refused on middy too', async () => {
    const main = middy()
      .use(toMiddy(settings, { logSink: () => undefined }))
      .handler(steadyHandler(async () => ({ statusCode: 200, body: 'ok' })));
    await expect(main({}, { ...lambdaContext } as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('an extension object made with a literal __proto__ (its prototype, not a member) merges as before', async () => {
    const withProto: Plugin<{ clock: number }> = { name: 'clock', extend: () => ({ __proto__: { inherited: 1 }, clock: 42 }) as unknown as { clock: number } };
    const main = handler({ use: [withProto], logSink: () => undefined }, (_input, ctx) => [ctx.clock, typeof ctx.remainingMs]);
    await expect(main.invoke({})).resolves.toEqual([42, 'function']);
  });
});
