/**
 * Review finding: a plugin whose `extend` returns a member every ctx already has (`log`,
 * `signal`, …) — e.g. `state(cache, { key: 'log' })` or `connections({ signal: handle })` —
 * used to replace it, and the core's own logging then failed with a TypeError: a retryable
 * `INTERNAL` on every delivery, never naming the cause. It is a terminal `ConfigurationError`
 * naming the plugin and the member, on the single, batch and middy paths.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, handler, type Plugin } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';
import { sqsRecord } from './support/sqs.js';

const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const takes = (member: string): Plugin => ({ name: `takes-${member}`, extend: () => ({ [member]: 'mine' }) });


describe('an extension naming a core ctx member', () => {
  it.each(['log', 'signal', 'deadline', 'requestId', 'input', 'remainingMs'])('"%s" fails the invocation with a terminal CONFIG_INVALID naming it', async (member) => {
    const lines: string[] = [];
    let ran = false;
    const main = handler({ use: [takes(member)], logSink: (line) => void lines.push(line) }, () => {
      ran = true;
    });
    const error = await main.invoke({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    // A plain call throws the public error: code and retryable, the message hidden (a 500).
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(ran).toBe(false);
    // The log names the option at fault, so the operator can find the plugin.
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === 'CONFIG_INVALID');
    expect(logged).toMatchObject({ msg: 'invocation failed', retryable: false, field: `use.takes-${member}.extend` });
  });

  it('fails every message of an SQS batch as terminal (the batch path)', async () => {
    const lines: string[] = [];
    const main = handler({ use: [takes('log')], logSink: (line) => void lines.push(line) }, () => undefined);
    const answer = await main.aws({ Records: [sqsRecord('m1', {}), sqsRecord('m2', {})] }, lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(lines.filter((l) => l.includes('"code":"CONFIG_INVALID"'))).toHaveLength(2);
  });

  it('is refused on middy too', async () => {
    const main = middy()
      .use(toMiddy(takes('signal'), { logSink: () => undefined }))
      .handler(steadyHandler(async () => ({ statusCode: 200, body: 'ok' })));
    await expect(main({}, { ...lambdaContext } as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('is the ConfigurationError class inside the pipeline (onError sees it)', async () => {
    let seen: unknown;
    const spy: Plugin = { name: 'spy', onError: (_ctx, error) => void (seen = error) };
    const main = handler({ use: [spy, takes('log')], logSink: () => undefined }, () => undefined);
    await main.invoke({}).catch(() => undefined);
    expect(seen).toBeInstanceOf(ConfigurationError);
    expect((seen as Error).message).toContain('"log"');
  });

  it('other names are merged as before', async () => {
    const clock: Plugin<{ clock: number }> = { name: 'clock', extend: () => ({ clock: 42 }) };
    const main = handler({ use: [clock] }, (_input, ctx) => ctx.clock);
    await expect(main.invoke({})).resolves.toBe(42);
  });
});
