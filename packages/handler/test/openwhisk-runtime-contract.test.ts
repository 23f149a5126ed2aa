/**
 * `@steadyfn/handler/openwhisk` driven the way the OpenWhisk Node.js action runtime drives an
 * action, in process, from a direct reading of its source (no OpenWhisk can be installed here):
 *
 * - apache/openwhisk-runtime-nodejs `core/nodejsActionBase/src/service.js` (commit 711d697)
 *   `runCode`: a null/undefined `value` becomes `{}`; `doRun`: every string field of the `/run`
 *   body except `value` is written to `process.env.__OW_<FIELD>` — process-wide, once per
 *   activation, also while other activations still run (`__OW_ALLOW_CONCURRENT=true` only
 *   stops the runtime from refusing an overlapping `/run`); a result whose `typeof` is not
 *   `'object'` answers 502 "The action did not return a dictionary.", a rejection of `run`
 *   (a synchronous throw) answers 502 and stops the container.
 * - `core/nodejsActionBase/runner.js` (commit d2fbb5d) `NodeActionRunner.run` /
 *   `finalizeResult`: `main(args)` is called synchronously; `undefined` becomes `{}`; a
 *   rejected promise becomes `{ error: serializeError(e) }` (a 200 answer).
 * - apache/openwhisk `core/invoker/.../containerpool/ContainerProxy.scala` (commit 004e040)
 *   `initializeAndRun`: the `/run` body is `value` plus `namespace` (the invoking user's),
 *   `action_name` (`/ns/[pkg/]action`), `activation_id`, `transaction_id`, the API key when
 *   the action does not opt out (`api_key`) and `deadline` =
 *   `(Instant.now.toEpochMilli + actionTimeout.toMillis).toString` — epoch milliseconds, as text.
 * - How the invoker records the answer and the controller reads web results and sequences:
 *   test/fixtures/openwhisk/controller.ts (see SOURCES.md there).
 *
 * The end-to-end runs of the built package in a loopback `/init` + `/run` proxy are in
 * src/providers/openwhisk.test.ts; this file pins each contract point on its own.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controllerHttp, controllerParams, invokerRecord, runSequence } from './fixtures/openwhisk/controller.js';
import { currentContext, handler, httpResult, RetryableError, TerminalError, type Context } from '../src/openwhisk.js';

type Rec = Record<string, any>;
type Main = (params: unknown) => unknown;

/** `serialize-error` as runner.js uses it, enough for the shapes here. */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  return { ...(error as object), name: error.name, message: error.message, stack: error.stack };
}

/** service.js `runCode` + `doRun` and runner.js `run` / `finalizeResult`, as read (see the header). */
function runtimeRun(main: Main, body: Rec): Promise<{ status: number; body: unknown }> {
  const msg: Rec = { ...body };
  if (msg.value === null || msg.value === undefined) msg.value = {};
  for (const k of Object.keys(msg)) {
    if (typeof msg[k] === 'string' && k !== 'value') process.env[`__OW_${k.toUpperCase()}`] = msg[k] as string;
  }
  const run = new Promise<unknown>((resolve, reject) => {
    let result: unknown;
    try {
      result = main(msg.value);
    } catch (e) {
      reject(e);
    }
    Promise.resolve(result)
      .then((r) => resolve(r === undefined ? {} : r))
      .catch((error: unknown) => resolve(error ? { error: serializeError(error) } : { error: {} }));
  });
  return run.then(
    (result) => (typeof result !== 'object' ? { status: 502, body: { error: 'The action did not return a dictionary.' } } : { status: 200, body: result }),
    (error: unknown) => ({ status: 502, body: { error: `An error has occurred: ${String(error)}` } }),
  );
}

/** The invoker's `/run` body (ContainerProxy.scala `initializeAndRun`). */
function runBody(value: unknown, o: { id?: string; deadline?: number; namespace?: string; action?: string; apiKey?: string } = {}): Rec {
  const id = o.id ?? randomUUID().replaceAll('-', '');
  return {
    value,
    namespace: o.namespace ?? 'guest',
    action_name: o.action ?? '/guest/demo/hello',
    activation_id: id,
    transaction_id: `tid-${id}`,
    api_key: o.apiKey ?? `${randomUUID()}:${randomUUID()}`,
    deadline: String(o.deadline ?? Date.now() + 60_000),
  };
}

/** The activation record the invoker makes of a `/run` answer. */
function record(answer: { status: number; body: unknown }): ReturnType<typeof invokerRecord> {
  return answer.status === 200 ? invokerRecord(answer.body) : { status: 'developer error', result: answer.body };
}

function sink(): { lines: Rec[]; logSink: (line: string) => void } {
  const lines: Rec[] = [];
  return { lines, logSink: (line) => lines.push(JSON.parse(line) as Rec) };
}

const OW_KEYS = ['NAMESPACE', 'ACTION_NAME', 'ACTIVATION_ID', 'TRANSACTION_ID', 'API_KEY', 'DEADLINE'].map((k) => `__OW_${k}`);
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(OW_KEYS.map((k) => [k, process.env[k]]));
});
afterEach(() => {
  for (const k of OW_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('the action runtime contract, /openwhisk entry', () => {
  it('exports the function as `main` too (runner.js: `module.exports.<main> || exports.<main>`)', () => {
    const main = handler({}, () => ({}));
    expect(main.main).toBe(main);
  });

  it('takes __OW_DEADLINE as epoch milliseconds and __OW_ACTIVATION_ID as the request id, on ctx and every log line', async () => {
    const { lines, logSink } = sink();
    let seen: Context | undefined;
    let remaining = 0;
    const main = handler({ logSink, logLevel: 'info' }, (_input, ctx) => {
      seen = ctx;
      remaining = ctx.remainingMs();
      ctx.log.info('working');
      return { ok: true };
    });
    const before = Date.now();
    const deadline = before + 45_000;
    const body = runBody({ a: 1 }, { deadline });
    const answer = await runtimeRun(main, body);
    expect(record(answer)).toEqual({ status: 'success', result: { ok: true } });
    expect(seen!.deadline).toBe(deadline);
    // Milliseconds left, never more than the invoker granted (read as seconds it would be ~1000x more or negative).
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(45_000);
    expect(seen!.requestId).toBe(body.activation_id);
    expect(seen!.functionName).toBe('/guest/demo/hello');
    expect(seen!.trigger.kind === 'direct' ? seen!.trigger.transactionId : undefined).toBe(body.transaction_id);
    const working = lines.find((l) => l.msg === 'working')!;
    expect(working).toMatchObject({ requestId: body.activation_id, transactionId: body.transaction_id, provider: 'openwhisk' });
  });

  it('never logs the API key the invoker passes as __OW_API_KEY, even when the function fails', async () => {
    const { lines, logSink } = sink();
    const apiKey = `${randomUUID()}:${randomUUID()}`;
    const main = handler({ logSink, logLevel: 'info' }, () => {
      throw new Error(`boom ${process.env.__OW_API_KEY}`);
    });
    const answer = await runtimeRun(main, runBody({}, { apiKey }));
    expect(record(answer).status).toBe('application error');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(apiKey);
    expect(JSON.stringify(answer)).not.toContain(apiKey);
  });

  it('answers a thrown typed error as a resolved `{ error }` (200), which the invoker records as an application error', async () => {
    const terminal = handler({ logSink: () => undefined }, () => {
      throw new TerminalError('ORDER_CLOSED', 'The order is closed');
    });
    const retryable = handler({ logSink: () => undefined }, async () => {
      throw new RetryableError('UPSTREAM_BUSY', 'Try again');
    });
    const a = await runtimeRun(terminal, runBody({}));
    const b = await runtimeRun(retryable, runBody({}));
    expect(a.status).toBe(200);
    expect(record(a)).toEqual({ status: 'application error', result: { error: { code: 'ORDER_CLOSED', message: 'The order is closed', retryable: false } } });
    expect(record(b)).toMatchObject({ status: 'application error', result: { error: { code: 'UPSTREAM_BUSY', retryable: true } } });
    // runner.js would put a rejection's stack into the record: the wrapper never rejects.
    expect(JSON.stringify(a.body)).not.toContain('stack');
  });

  it('(control) the same harness records a bare rejection with its stack and a synchronous throw as a 502', async () => {
    const rejected = await runtimeRun(() => Promise.reject(new Error('bare')), runBody({}));
    expect(record(rejected)).toMatchObject({ status: 'application error', result: { error: { message: 'bare', stack: expect.any(String) } } });
    const thrown = await runtimeRun(() => {
      throw new Error('sync');
    }, runBody({}));
    expect(thrown.status).toBe(502);
    expect(await runtimeRun(() => 'text', runBody({}))).toEqual({ status: 502, body: { error: 'The action did not return a dictionary.' } });
  });

  it('answers an object for every return value (the runtime refuses a non-object with 502) and `{}` for an absent value', async () => {
    for (const [value, expected] of [
      ['text', { result: 'text' }],
      [42, { result: 42 }],
      [[1, 2], { result: [1, 2] }],
      [undefined, {}],
    ] as const) {
      const answer = await runtimeRun(handler({}, () => value), runBody(null));
      expect(answer).toEqual({ status: 200, body: expected });
      expect(record(answer).status).toBe('success');
    }
  });

  it('keeps each overlapping activation its own id, transaction, deadline and logs although doRun rewrites process.env', async () => {
    const { lines, logSink } = sink();
    const gates = new Map<string, () => void>();
    const main = handler({ logSink, logLevel: 'info' }, async (input: any, ctx) => {
      await new Promise<void>((resolve) => gates.set(input.who, resolve));
      // By now the other activation's doRun has rewritten every __OW_ variable.
      const current = currentContext()!;
      current.log.info('resumed', { who: input.who });
      return { who: input.who, requestId: current.requestId, transactionId: ctx.trigger.kind === 'direct' ? ctx.trigger.transactionId : undefined, deadline: ctx.deadline, same: current === ctx, envNow: process.env.__OW_ACTIVATION_ID };
    });
    const da = Date.now() + 30_000;
    const db = Date.now() + 50_000;
    const bodyA = runBody({ who: 'a' }, { deadline: da, namespace: 'guest' });
    const bodyB = runBody({ who: 'b' }, { deadline: db, namespace: 'guest' });
    const runA = runtimeRun(main, bodyA);
    const runB = runtimeRun(main, bodyB); // the second /run, while A waits
    await until(() => gates.size === 2);
    gates.get('a')!(); // A resumes with B's values in process.env
    const a = await runA;
    gates.get('b')!();
    const b = await runB;
    expect(a.body).toEqual({ who: 'a', requestId: bodyA.activation_id, transactionId: bodyA.transaction_id, deadline: da, same: true, envNow: bodyB.activation_id });
    expect(b.body).toMatchObject({ who: 'b', requestId: bodyB.activation_id, transactionId: bodyB.transaction_id, deadline: db, same: true });
    const resumed = lines.filter((l) => l.msg === 'resumed').map((l) => [l.who, l.requestId, l.transactionId]);
    expect(resumed).toEqual([
      ['a', bodyA.activation_id, bodyA.transaction_id],
      ['b', bodyB.activation_id, bodyB.transaction_id],
    ]);
  });

  describe('web actions (apache/openwhisk docs/webactions.md; WebActions.scala via controller.ts)', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80, 0x7f]);
    const echoBytes = handler({ body: 'bytes' }, (input: unknown, ctx) => {
      const req = ctx.trigger.kind === 'http' ? ctx.trigger.request : undefined;
      return httpResult({ status: 200, headers: { 'content-type': 'image/png', 'x-path': req?.path ?? '' }, body: input as Buffer });
    });

    for (const raw of [false, true]) {
      it(`round-trips a binary body byte for byte (${raw ? 'raw' : 'non-raw'}): base64 __ow_body in, base64 body under image/png out`, async () => {
        const params = controllerParams({ method: 'POST', path: '/img', contentType: 'image/png', body: png }, raw);
        expect(typeof params.__ow_body).toBe('string'); // the controller sends binary as base64
        const answer = await runtimeRun(echoBytes, runBody(params));
        const rec = record(answer);
        expect(rec.status).toBe('success');
        const sent = controllerHttp(rec.result as Rec);
        expect(sent.status).toBe(200);
        expect(sent.contentType).toBe('image/png');
        expect(Buffer.compare(sent.body, png)).toBe(0);
        expect((rec.result as Rec).headers['x-path']).toBe('/img');
      });
    }

    it('reads a non-raw merged query and a raw unparsed __ow_query the same way for the function', async () => {
      const seen: unknown[] = [];
      const main = handler({}, (input) => (seen.push(input), httpResult({ status: 200, body: { ok: true } })));
      const plain = await runtimeRun(main, runBody(controllerParams({ method: 'GET', query: 'name=Jane&n=1' }, false)));
      const raw = await runtimeRun(main, runBody(controllerParams({ method: 'GET', query: 'name=Jane&n=1' }, true)));
      expect(seen).toEqual([{ name: 'Jane', n: '1' }, { name: 'Jane', n: '1' }]);
      for (const answer of [plain, raw]) {
        const sent = controllerHttp(record(answer).result as Rec);
        expect(sent.status).toBe(200);
        expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ ok: true });
      }
    });

    it('answers a 5xx under `error`: the client gets the response and the activation is recorded failed', async () => {
      const main = handler({ logSink: () => undefined }, () => {
        throw new RetryableError('UPSTREAM_BUSY', 'Try again');
      });
      const answer = await runtimeRun(main, runBody(controllerParams({ method: 'GET' }, false)));
      const rec = record(answer);
      expect(rec.status).toBe('application error');
      const error = (rec.result as Rec).error as Rec;
      expect(controllerHttp(error).status).toBe(503);
    });
  });

  it('passes results down a sequence and stops it at a typed failure (SequenceActions.scala via controller.ts)', async () => {
    const add = handler({}, (input: any) => ({ n: input.n + 1 }));
    const fail = handler({ logSink: () => undefined }, () => {
      throw new TerminalError('TOO_BIG', 'Too big');
    });
    const asComponent = (main: Main) => async (params: unknown) => (await runtimeRun(main, runBody(params))).body;
    const ok = await runSequence([asComponent(add), asComponent(add)], { n: 1 });
    expect(ok).toEqual({ ran: 2, record: { status: 'success', result: { n: 3 } } });
    const stopped = await runSequence([asComponent(add), asComponent(fail), asComponent(add)], { n: 1 });
    expect(stopped).toMatchObject({ ran: 2, record: { status: 'application error', result: { error: { code: 'TOO_BIG' } } } });
  });
});

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}
