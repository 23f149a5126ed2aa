/**
 * A response that was sent replays: the provider's size limit is judged on the first answer
 * with the replay's `Idempotency-Replayed: true` header counted, so a response within those
 * bytes of the limit is refused the first time (`RESPONSE_TOO_LARGE`, record released), never
 * sent once and then refused on every replay. On the real limits — Lambda's 6291556 bytes (the
 * Runtime API's "Exceeded maximum allowed payload size (6291556 bytes)") through an API Gateway
 * HTTP API (v2) event, and OpenWhisk's `whisk.activation.payload.max` default of 1048576 through
 * a web action — with Redis as the store. Sizes are the UTF-8 bytes of the JSON each runtime
 * posts for the answer (`JSON.stringify` of what the handler returns to it).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { handler, httpResult, type Plugin } from '@steadyfn/handler';
import { idempotency, pendingCompletion, REPLAYED_HEADER } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

const LAMBDA_LIMIT = 6_291_556;
const OPENWHISK_LIMIT = 1_048_576;

type Answer = Record<string, unknown> & { headers?: Record<string, string> };

/** One provider's call of an idempotent function whose text body is `length` bytes of `x`. */
interface Route {
  name: string;
  limit: number;
  call(main: Main, key: string): Promise<Answer>;
  /** The HTTP response in the answer (an OpenWhisk web action's 5xx is under `error`, so the activation counts as failed). */
  response(answer: Answer): Answer;
}

type Main = ReturnType<typeof handler> & { aws(e: unknown, c: unknown): Promise<unknown>; openwhisk(p: unknown): Promise<unknown> };

/** The problem body of an error response: JSON text on Lambda, the object itself on OpenWhisk. */
const problem = (res: Answer): unknown => (typeof res.body === 'string' ? JSON.parse(res.body) : res.body);

const bytes = (answer: Answer): number => Buffer.byteLength(JSON.stringify(answer), 'utf8');

/** Runs `params` as OpenWhisk would: a fresh activation id for every activation. */
async function openwhiskActivation(main: Main, params: Record<string, unknown>): Promise<Answer> {
  const saved = { id: process.env.__OW_ACTIVATION_ID, name: process.env.__OW_ACTION_NAME };
  process.env.__OW_ACTIVATION_ID = randomUUID().replace(/-/g, '');
  process.env.__OW_ACTION_NAME = '/guest/report';
  try {
    return (await main.openwhisk(params)) as Answer;
  } finally {
    if (saved.id === undefined) delete process.env.__OW_ACTIVATION_ID;
    else process.env.__OW_ACTIVATION_ID = saved.id;
    if (saved.name === undefined) delete process.env.__OW_ACTION_NAME;
    else process.env.__OW_ACTION_NAME = saved.name;
  }
}

const ROUTES: Route[] = [
  {
    name: 'AWS Lambda, API Gateway HTTP API (v2)',
    limit: LAMBDA_LIMIT,
    call: async (main, key) => (await main.aws(httpEvent({ key, body: { report: 'r-1' } }), lambdaContext())) as Answer,
    response: (a) => a,
  },
  {
    name: 'Apache OpenWhisk, web action',
    limit: OPENWHISK_LIMIT,
    call: (main, key) => openwhiskActivation(main, { __ow_method: 'post', __ow_headers: { 'content-type': 'application/json', 'idempotency-key': key }, __ow_path: '', report: 'r-1' }),
    response: (a) => (a.error as Answer | undefined) ?? a,
  },
];

describe.each(ROUTES)('a replay fits the limit the first answer was judged by: $name, Redis store', (route) => {
  const backend = useBackend('redis');

  /** A function answering `length` bytes of text, counting its runs. */
  const make = (length: number) => {
    const fn = { runs: 0 };
    const main = handler(
      { name: `replay-size-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] },
      () => {
        fn.runs++;
        return httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(length) });
      },
    ) as Main;
    return { main, fn };
  };

  /** The answer's bytes other than the body (`body` = n bytes of `x`), and what the replay header adds. */
  let overhead = 0;
  let replayHeader = 0;
  beforeAll(async () => {
    const { main } = make(1_000);
    const key = randomUUID();
    const first = await route.call(main, key);
    const again = await route.call(main, key);
    expect(again.headers?.[REPLAYED_HEADER]).toBe('true');
    overhead = bytes(first) - 1_000;
    replayHeader = bytes(again) - bytes(first);
    // `,"Idempotency-Replayed":"true"` in the answer's header map.
    expect(replayHeader).toBe(30);
  });

  it('a response whose replay is exactly the limit is sent, and replayed byte for byte with the header', async () => {
    const { main, fn } = make(route.limit - overhead - replayHeader);
    const key = randomUUID();
    const first = await route.call(main, key);
    expect(route.response(first).statusCode).toBe(200);
    expect(bytes(first)).toBe(route.limit - replayHeader);
    const again = await route.call(main, key);
    expect(route.response(again).statusCode).toBe(200);
    expect(bytes(again)).toBe(route.limit);
    expect(again.headers?.[REPLAYED_HEADER]).toBe('true');
    expect(again.body).toBe(first.body);
    expect(fn.runs).toBe(1);
  });

  it('one byte more fits the limit but its replay would not: refused the first time as RESPONSE_TOO_LARGE, that error stored, a retry replays it', async () => {
    const length = route.limit - overhead - replayHeader + 1;
    // (control) Without the plugin nothing replays it: the same response is sent, within the limit.
    const plain = handler({ logSink: silentSink() }, () => httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(length) })) as Main;
    const sent = await route.call(plain, randomUUID());
    expect(route.response(sent).statusCode).toBe(200);
    expect(bytes(sent)).toBe(route.limit - replayHeader + 1);
    // With it, refused the first time, as its replay (limit + 1 bytes) would be.
    const { main, fn } = make(length);
    const key = randomUUID();
    const first = await route.call(main, key);
    expect(route.response(first).statusCode).toBe(500);
    expect(problem(route.response(first))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(fn.runs).toBe(1);
    // The function returned (its effects done): the refusal is stored, so the retry gets it
    // replayed rather than running the function's effects again to be refused again.
    const retry = await route.call(main, key);
    expect(fn.runs).toBe(1);
    expect(route.response(retry).statusCode).toBe(500);
    expect(route.response(retry).headers?.[REPLAYED_HEADER]).toBe('true');
    expect(problem(route.response(retry))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });
  it('a write joining the completion (pendingCompletion) is refused the same way before it writes', async () => {
    const writes: string[] = [];
    const thrown: unknown[] = [];
    const writer: Plugin = {
      name: 'joined-writer',
      after(ctx, result) {
        try {
          const completion = pendingCompletion(ctx, result);
          writes.push('written');
          completion?.joined();
        } catch (error) {
          thrown.push((error as { code?: unknown }).code);
          throw error;
        }
      },
    };
    const length = route.limit - overhead - replayHeader + 1;
    let runs = 0;
    const main = handler(
      { name: `replay-size-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), writer] },
      () => {
        runs++;
        return httpResult({ headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(length) });
      },
    ) as Main;
    const key = randomUUID();
    const first = await route.call(main, key);
    expect(route.response(first).statusCode).toBe(500);
    expect(problem(route.response(first))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(thrown).toEqual(['RESPONSE_TOO_LARGE']);
    expect(writes).toEqual([]);
    // Refused before a write took the completion: the refusal is stored, as without a join.
    const retry = await route.call(main, key);
    expect(problem(route.response(retry))).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(route.response(retry).headers?.[REPLAYED_HEADER]).toBe('true');
    expect([runs, writes]).toEqual([1, []]);
  });
});
