/**
 * More replays of bug reports filed against peer idempotency libraries, run against
 * @steadyfn/idempotency through the real handler (Lambda adapter) and the real stores (Redis,
 * Redis Cluster, FerretDB). Each `it` names the report and what went wrong there; the
 * assertion is what our package must do instead. (peer-bug-replays.test.ts holds the first set.)
 */
import { randomUUID } from 'node:crypto';
import { handler, httpResult, type Context } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string; cookies?: string[] };
type Order = { orderId: string; userId: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe.each(BACKENDS)('peer bug replays (2) on %s', (name) => {
  const backend = useBackend(name);

  const make = (fnName: string, fn: (input: any, ctx: Context) => unknown, extra: Partial<IdempotencyOptions>) =>
    handler({ name: fnName, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);
  const call = async (main: ReturnType<typeof make>, body: unknown): Promise<LambdaHttp> => (await main.aws(httpEvent({ body }), lambdaContext())) as LambdaHttp;

  it('powertools-lambda-typescript#5409 (docs PR #5419: "a persistence layer instance captures the IdempotencyConfig of the first operation that uses it and silently ignores subsequent ones"): two operations sharing one store keep their own key — the second is not keyed by the first one\'s expression', async () => {
    const run = randomUUID();
    const runs: string[] = [];
    const byOrder = make(`by-order-${run}`, (o: Order) => (runs.push(`order:${o.orderId}/${o.userId}`), { by: 'order', ...o }), { key: (ctx) => (ctx.input as Order).orderId });
    const byUser = make(`by-user-${run}`, (o: Order) => (runs.push(`user:${o.orderId}/${o.userId}`), { by: 'user', ...o }), { key: (ctx) => (ctx.input as Order).userId });
    await call(byOrder, { orderId: 'o1', userId: 'u1' });
    // Same order, other users: new keys for the user-keyed operation, so both run (keyed by
    // order, the second would be answered as the first's key reused with another payload).
    expect(JSON.parse((await call(byUser, { orderId: 'o1', userId: 'u2' })).body)).toEqual({ by: 'user', orderId: 'o1', userId: 'u2' });
    const u3 = await call(byUser, { orderId: 'o1', userId: 'u3' });
    expect(u3.statusCode).toBe(200);
    expect(JSON.parse(u3.body)).toEqual({ by: 'user', orderId: 'o1', userId: 'u3' });
    // The same user again: its key, replayed.
    const again = await call(byUser, { orderId: 'o1', userId: 'u2' });
    expect(again.headers['Idempotency-Replayed']).toBe('true');
    // The order-keyed operation still keys by order: another order of the same user runs, the same order replays.
    expect(JSON.parse((await call(byOrder, { orderId: 'o2', userId: 'u1' })).body)).toEqual({ by: 'order', orderId: 'o2', userId: 'u1' });
    expect((await call(byOrder, { orderId: 'o1', userId: 'u1' })).headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toEqual(['order:o1/u1', 'user:o1/u2', 'user:o1/u3', 'order:o2/u1']);
  });

  it('resonatehq/resonate#99 ("the first request gets 201, subsequent requests get 200") and VSN2015/concerns_on_rails PR #47 (a replayed 201 came back "without the Location the original response had"): a replay keeps the status, Location, ETag and every cookie, only adding Idempotency-Replayed', async () => {
    let runs = 0;
    const main = make(`created-${randomUUID()}`, (o: { orderId: string }) => {
      runs++;
      return httpResult({
        status: 201,
        headers: { location: `/orders/${o.orderId}`, etag: '"v1"', 'content-type': 'application/json' },
        cookies: ['session=abc; Path=/; HttpOnly', 'cart=; Max-Age=0'],
        body: { id: o.orderId, created: true },
      });
    }, {});
    const key = randomUUID();
    const send = async () => (await main.aws(httpEvent({ key, body: { orderId: 'o-77' } }), lambdaContext())) as LambdaHttp;
    const first = await send();
    const replay = await send();
    expect(first.statusCode).toBe(201);
    expect(first.headers['Idempotency-Replayed']).toBeUndefined();
    expect(replay.headers['Idempotency-Replayed']).toBe('true');
    const { 'Idempotency-Replayed': _marker, ...replayHeaders } = replay.headers;
    expect({ ...replay, headers: replayHeaders }).toEqual(first);
    expect(first.headers).toMatchObject({ location: '/orders/o-77', etag: '"v1"' });
    expect(first.cookies).toEqual(['session=abc; Path=/; HttpOnly', 'cart=; Max-Age=0']);
    expect(runs).toBe(1);
  });

  it('aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws#904 ("Single upload produces multiple workflow executions": a batch that timed out returned no partial answer, SQS redelivered it whole, and messages already started ran again — one upload six times): here the batch is answered before the deadline with only the unfinished message failed, and a whole-batch redelivery replays the finished ones', async () => {
    const runs = new Map<string, number>();
    const DEADLINE_MS = 5_000;
    const main = handler(
      { name: `documents-${randomUUID()}`, logSink: silentSink(), deadlineMarginMs: 3_000, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] },
      async (input: unknown) => {
        const { doc } = input as { doc: string };
        const n = (runs.get(doc) ?? 0) + 1;
        runs.set(doc, n);
        if (doc === 'slow' && n === 1) await new Promise(() => {}); // never finishes in this invocation
        return { started: `${doc}-execution` };
      },
    );
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const records = [sqsRecord(ids[0]!, { doc: 'a' }, { queue: 'documents' }), sqsRecord(ids[1]!, { doc: 'slow' }, { queue: 'documents' }), sqsRecord(ids[2]!, { doc: 'c' }, { queue: 'documents' })];
    const startedAt = Date.now();
    expect(await main.aws({ Records: records }, lambdaContext(randomUUID(), 'documents', DEADLINE_MS))).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }] });
    // The whole batch comes back (as it did for the peer, whose timeout answered nothing). Until
    // the first invocation's deadline its unfinished message may still be held; after it, it runs.
    let again = (await main.aws({ Records: records }, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    while (again.batchItemFailures.length > 0 && Date.now() < startedAt + DEADLINE_MS + 5_000) {
      expect(again.batchItemFailures).toEqual([{ itemIdentifier: ids[1] }]);
      await sleep(100);
      again = (await main.aws({ Records: records }, lambdaContext())) as typeof again;
    }
    expect(again).toEqual({ batchItemFailures: [] });
    expect(Object.fromEntries(runs)).toEqual({ a: 1, slow: 2, c: 1 });
  });

  it('cloudevents/sdk-javascript#489 ("parsing big integers in JSON data loses precision": 1524831183200260097 became 1524831183200260000) and n8n#26925: two requests whose ids differ only past 2^53 parse to the same number — keyed by input they stay two keys, so the second runs instead of replaying the first\'s answer', async () => {
    let runs = 0;
    const main = make(`bigint-${randomUUID()}`, () => ({ run: ++runs }), { key: 'input' });
    const post = async (rawBody: string) => {
      const event = httpEvent({}) as Record<string, unknown>;
      return (await main.aws({ ...event, body: rawBody }, lambdaContext())) as LambdaHttp;
    };
    const tweet = await post('{"tweetId": 1524831183200260097}');
    const other = await post('{"tweetId": 1524831183200260098}');
    expect(JSON.parse(tweet.body)).toEqual({ run: 1 });
    expect(other.headers['Idempotency-Replayed']).toBeUndefined();
    expect(JSON.parse(other.body)).toEqual({ run: 2 });
    // The same id again is the same key: replayed.
    const again = await post('{"tweetId": 1524831183200260097}');
    expect(again.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(again.body)).toEqual({ run: 1 });
  });

  it('cloudevents/sdk-javascript#489, with an Idempotency-Key: the key reused with a payload that differs only past 2^53 is refused as reused (422), not answered with the other payload\'s result', async () => {
    let runs = 0;
    const main = make(`bigint-key-${randomUUID()}`, () => ({ run: ++runs }), {});
    const key = randomUUID();
    const post = async (rawBody: string) => {
      const event = httpEvent({ key }) as Record<string, unknown>;
      return (await main.aws({ ...event, body: rawBody }, lambdaContext())) as LambdaHttp;
    };
    expect((await post('{"amountMinor": 9007199254740993}')).statusCode).toBe(200);
    const reused = await post('{"amountMinor": 9007199254740992}');
    expect(reused.statusCode).toBe(422);
    expect(JSON.parse(reused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(runs).toBe(1);
  });

  it.each([false, true])('josipmusa/idempotency4j#24 ("expired entries not evicted") and powertools-lambda-python PR #245 (expired local-cache records): once ttlMs has passed, a completed record is no longer replayed — the request runs again (localCache %s)', async (localCache) => {
    let runs = 0;
    const main = make(`expiry-${randomUUID()}`, () => ({ run: ++runs }), { ttlMs: 1_500, localCache });
    const orderId = randomUUID();
    const first = await call(main, { orderId });
    expect(JSON.parse(first.body)).toEqual({ run: 1 });
    // Well past ttlMs (a FerretDB/MongoDB TTL monitor deletes only once a minute, so the read itself must check expiry).
    await sleep(2_000);
    const after = await call(main, { orderId });
    expect(after.headers['Idempotency-Replayed']).toBeUndefined();
    expect(JSON.parse(after.body)).toEqual({ run: 2 });
    // The new run's record is replayed in turn.
    const replay = await call(main, { orderId });
    expect(replay.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(replay.body)).toEqual({ run: 2 });
    expect(runs).toBe(2);
  });
});
