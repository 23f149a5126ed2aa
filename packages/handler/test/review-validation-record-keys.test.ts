/**
 * Review finding (s53, left alone in s52): a validation error's `field` (in the 400 answer, the
 * thrown error and the `invocation rejected` log line) was zod's issue path joined — and inside
 * a `z.record()`, a `z.map()` or an object's `.catchall()` that path holds the key the caller
 * sent: `byEmail.ann@example.com.qty`, `tokens.sk_live_….scope`. Those keys are payload, and
 * no payload may reach a response or a log. A path segment that is such a key is now `*`, found
 * by walking the schema along the path (internal/issue-mask.ts, the walk `@steadyfn/state`
 * already used for its round failures and now shares); declared shape keys, enum/literal record
 * keys and array indexes are the schema's words and are kept.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '../src/index.js';
import { maskedPath } from '../src/internal.js';
import { sqsRecord } from './support/sqs.js';

const SECRETS = ['ann@example.com', 'sk_live_abc123', 'user-4711', 'tok_998877'];
const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };

const Orders = z.object({
  byEmail: z.record(z.string(), z.object({ qty: z.number() })),
  regions: z.record(z.enum(['eu', 'us']), z.number()),
  lines: z.array(z.object({ sku: z.string() })),
  meta: z.object({ source: z.string() }).catchall(z.number()),
  tokens: z.record(z.string().startsWith('tok_'), z.boolean()).optional(),
});

const bad = {
  byEmail: { 'ann@example.com': { qty: 'two' } },
  regions: { eu: 'x', us: 1 },
  lines: [{ sku: 'a' }, { sku: 7 }],
  meta: { source: 'web', 'user-4711': 'y' },
  tokens: { sk_live_abc123: true, tok_998877: 'yes' },
};

async function fieldsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message?: string; errors?: Array<{ field: string }> };
  expect(error?.code).toBe('VALIDATION_FAILED');
  for (const secret of SECRETS) expect(String(error.message)).not.toContain(secret);
  return (error.errors ?? []).map((i) => i.field);
}

describe('validation errors never carry the caller\'s record, map or catchall keys', () => {
  it('direct: record/catchall keys are *, shape keys, enum keys and indexes kept', async () => {
    const main = handler({ input: Orders, logSink: () => {} }, () => undefined);
    const fields = await fieldsOf(main.invoke(bad));
    expect(fields).toEqual(['byEmail.*.qty', 'regions.eu', 'lines.1.sku', 'meta.*', 'tokens.*', 'tokens.*']);
    for (const field of fields) for (const secret of SECRETS) expect(field).not.toContain(secret);
  });

  it('an SQS message: the rejected log line and the error hold no key the caller sent', async () => {
    const lines: string[] = [];
    const main = handler({ input: Orders, logLevel: 'info', logSink: (line) => void lines.push(line) }, () => undefined);
    const answer = await main.aws({ Records: [sqsRecord('m0', bad)] }, lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const rejected = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation rejected');
    expect(rejected).toMatchObject({ code: 'VALIDATION_FAILED', issues: expect.arrayContaining([expect.objectContaining({ field: 'byEmail.*.qty' })]) });
    for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
  });

  it('an HTTP 400 answer names `*`, not the key', async () => {
    const main = handler({ input: z.object({ prefs: z.record(z.string(), z.boolean()) }), logSink: () => {} }, () => undefined);
    const event = {
      version: '2.0', routeKey: '$default', rawPath: '/', rawQueryString: '', headers: { 'content-type': 'application/json' },
      requestContext: { accountId: '1', apiId: 'a', domainName: 'a.execute-api.eu-west-1.amazonaws.com', domainPrefix: 'a', http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 't' }, requestId: 'r', routeKey: '$default', stage: '$default', time: '07/Dec/2026:10:00:00 +0000', timeEpoch: 1796637600000 },
      body: JSON.stringify({ prefs: { 'ann@example.com': 'yes' } }), isBase64Encoded: false,
    };
    const answer = (await main.aws(event, lambdaContext)) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body).errors).toEqual([expect.objectContaining({ field: 'prefs.*' })]);
    expect(answer.body).not.toContain('ann@example.com');
  });

  it('a z.map: its keys are *, the declared keys of its values kept', async () => {
    const main = handler({ input: z.object({ byUser: z.map(z.string(), z.object({ limit: z.number() })) }), logSink: () => {} }, () => undefined);
    expect(await fieldsOf(main.invoke({ byUser: new Map([['user-4711', { limit: 'x' }]]) }))).toEqual(['byUser.*.limit']);
  });

  it('the walk: unions, lazy, pipes, tuples, intersections; an unknown schema below masks', () => {
    const schema = z.union([
      z.object({ kind: z.literal('a'), tags: z.record(z.string(), z.string()) }),
      z.object({ kind: z.literal('b'), pair: z.tuple([z.string(), z.object({ n: z.number() })]) }),
    ]);
    expect(maskedPath(schema, ['tags', 'user-4711'])).toEqual(['tags', '*']);
    expect(maskedPath(schema, ['pair', 1, 'n'])).toEqual(['pair', 1, 'n']);
    const lazy = z.lazy(() => z.object({ deep: z.record(z.string(), z.number()).pipe(z.record(z.string(), z.number())) }));
    expect(maskedPath(lazy, ['deep', 'sk_live_abc123'])).toEqual(['deep', '*']);
    const both = z.intersection(z.object({ a: z.string() }), z.object({ b: z.record(z.string(), z.number()) }));
    expect(maskedPath(both, ['b', 'x'])).toEqual(['b', '*']);
    expect(maskedPath(z.object({ x: z.custom() }), ['x', 'anything'])).toEqual(['x', '*']);
  });

  it('a schema that is not zod 4 keeps its paths as reported (nothing to walk)', async () => {
    const custom = { safeParseAsync: async () => ({ success: false as const, error: { issues: [{ path: ['a', 'b'], message: 'bad' }] } }) };
    const main = handler({ input: custom as unknown as z.ZodType, logSink: () => {} }, () => undefined);
    expect(await fieldsOf(main.invoke({}))).toEqual(['a.b']);
  });
});
