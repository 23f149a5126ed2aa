/**
 * Review finding (rvu): a ctx member added by two plugins — `state(appState)` with
 * `connections({ state: redis() })`, or `state(a)` with `state(b)` both without `key` — was
 * silently replaced by the later one, and `ctx.state.config` read the wrong object (`undefined`,
 * nothing logged). The second plugin adding the name is a terminal `ConfigurationError` naming
 * both plugins and the member, on the single, batch and middy paths, warm or cold.
 */
import middy from '@middy/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigurationError, handler, type Plugin, type PluginsAdded } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';
import { sqsRecord } from './support/sqs.js';

const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const first: Plugin<{ state: { config: { retries: number } } }> = { name: 'state', extend: () => ({ state: { config: { retries: 3 } } }) };
const second: Plugin<{ state: { get(key: string): Promise<string | null> } }> = { name: 'connections', extend: () => ({ state: { get: async () => null } }) };

function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('a ctx member added by two plugins', () => {
  it('is refused, not silently replaced (the function does not run)', async () => {
    const lines: string[] = [];
    let ran = false;
    const main = handler({ use: [first, second], logSink: (line) => void lines.push(line) }, async (_input: unknown, ctx) => {
      ran = true;
      // @ts-expect-error -- ctx.state is `never`: two plugins add it (the old types intersected both shapes)
      return ctx.state.config.retries;
    });
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(ran).toBe(false);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === 'CONFIG_INVALID');
    expect(logged).toMatchObject({ msg: 'invocation failed', retryable: false, field: 'use.connections.extend' });
  });

  it('names both plugins and the member in the error the pipeline sees', async () => {
    let seen: unknown;
    const spy: Plugin = { name: 'spy', onError: (_ctx, error) => void (seen = error) };
    const main = handler({ use: [spy, first, second], logSink: () => undefined }, () => undefined);
    await failureOf(main.invoke({}));
    expect(seen).toBeInstanceOf(ConfigurationError);
    expect(seen).toMatchObject({ field: 'use.connections.extend' });
    const message = (seen as Error).message;
    expect(message).toContain('"connections"');
    expect(message).toContain('plugin "state"');
    expect(message).toContain('"state"');
  });

  it('is refused for two plugins of the same name (state(a), state(b))', async () => {
    let seen: unknown;
    const spy: Plugin = { name: 'spy', onError: (_ctx, error) => void (seen = error) };
    const a: Plugin<{ state: number }> = { name: 'state:state', extend: () => ({ state: 1 }) };
    const b: Plugin<{ state: number }> = { name: 'state:state', extend: () => ({ state: 2 }) };
    const main = handler({ use: [spy, a, b], logSink: () => undefined }, (_input, ctx) => ctx.state);
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect((seen as Error).message).toContain('another plugin named "state:state"');
  });

  it('is refused on every warm invocation when the members are a frozen object handed back each time', async () => {
    const cached = Object.freeze({ state: Object.freeze({ get: async () => null }) });
    const warm: Plugin = { name: 'connections', extend: () => cached };
    // Alone, the frozen object passes (and is remembered); with a plugin that adds the same name, it is refused.
    const alone = handler({ use: [warm], logSink: () => undefined }, () => 'ran');
    await expect(alone.invoke({})).resolves.toBe('ran');
    const both = handler({ use: [first, warm], logSink: () => undefined }, () => 'ran');
    for (let i = 0; i < 2; i++) await expect(both.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    // The other order: the remembered object comes first, the mutable one is refused.
    const reversed = handler({ use: [warm, second], logSink: () => undefined }, () => 'ran');
    for (let i = 0; i < 2; i++) await expect(reversed.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('fails every message of an SQS batch as terminal (the batch path)', async () => {
    const lines: string[] = [];
    const main = handler({ use: [first, second], logSink: (line) => void lines.push(line) }, () => undefined);
    const answer = await main.aws({ Records: [sqsRecord('m1', {}), sqsRecord('m2', {})] }, lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(lines.filter((l) => l.includes('"code":"CONFIG_INVALID"'))).toHaveLength(2);
  });

  it('is refused on middy too', async () => {
    const main = middy()
      .use(toMiddy(first, { logSink: () => undefined }))
      .use(toMiddy(second, { logSink: () => undefined }))
      .handler(steadyHandler(async () => ({ statusCode: 200, body: 'ok' })));
    await expect(main({}, { ...lambdaContext } as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('is `never` in the types when the two plugins add it with different types; other members keep theirs', () => {
    const clock: Plugin<{ clock: number }> = { name: 'clock', extend: () => ({ clock: 1 }) };
    type Both = PluginsAdded<[typeof first, typeof second, typeof clock]>;
    expectTypeOf<Both['state']>().toBeNever();
    expectTypeOf<Both['clock']>().toEqualTypeOf<number>();
    expectTypeOf<PluginsAdded<[typeof first, typeof clock]>>().toEqualTypeOf<{ state: { config: { retries: number } } } & { clock: number }>();
    // A plugin typed with an index signature (or `any`) does not turn every other member into `never`.
    const loose: Plugin<Record<string, unknown>> = { name: 'loose', extend: () => ({}) };
    expectTypeOf<PluginsAdded<[typeof loose, typeof clock]>['clock']>().toEqualTypeOf<number>();
  });

  it('keeps the members of a plugin whose added type is a union: shared keys are compared plugin by plugin (review s54)', () => {
    type Db = { query(sql: string): Promise<unknown> };
    const either: Plugin<{ a: number; db: Db } | { b: string; db: Db }> = { name: 'either', extend: () => ({ a: 1, db: { query: async () => null } }) };
    const clock: Plugin<{ clock: number }> = { name: 'clock', extend: () => ({ clock: 1 }) };
    const otherDb: Plugin<{ db: string }> = { name: 'other', extend: () => ({ db: 'x' }) };
    expectTypeOf<PluginsAdded<[typeof either]>['db']>().toEqualTypeOf<Db>();
    expectTypeOf<PluginsAdded<[typeof either, typeof clock]>['db']>().toEqualTypeOf<Db>();
    expectTypeOf<PluginsAdded<[typeof either, typeof clock]>['clock']>().toEqualTypeOf<number>();
    expectTypeOf<PluginsAdded<[typeof either, typeof otherDb]>['db']>().toBeNever();
    handler({ use: [either, clock], logSink: () => undefined }, (_input, ctx) => ctx.db.query('select 1'));
    // @ts-expect-error -- a second plugin adds `db`: never
    handler({ use: [either, otherDb], logSink: () => undefined }, (_input, ctx) => ctx.db.query('select 1'));
  });

  it('different members of several plugins are all merged, each invocation afresh', async () => {
    const a: Plugin<{ a: number }> = { name: 'a', extend: () => ({ a: 1 }) };
    const b: Plugin<{ b: number }> = { name: 'b', extend: () => ({ b: 2 }) };
    const main = handler({ use: [a, b], logSink: () => undefined }, (_input, ctx) => ctx.a + ctx.b);
    for (let i = 0; i < 2; i++) await expect(main.invoke({})).resolves.toBe(3);
    const batch = await main.aws({ Records: [sqsRecord('m1', {}), sqsRecord('m2', {})] }, lambdaContext);
    expect(batch).toEqual({ batchItemFailures: [] });
  });
});
