/**
 * More of the OpenWhisk Node.js action runtime contract (see openwhisk-runtime-contract.test.ts
 * for the first part and its sources), on points that file leaves open:
 *
 * - apache/openwhisk-runtime-nodejs `core/nodejsActionBase/src/service.js`: the current
 *   `runCode` (commit 711d697) turns a null or absent `value` into `{}` before `main` sees it;
 *   the earlier `doRun` (commit 164f55a) passed `msg.value` as it came, so `main(undefined)`.
 *   Either way the action's parameters are "no parameters", never a malformed event.
 * - `runCode` answers 502 "The action did not return a dictionary." for a result whose
 *   `typeof` is not `'object'`; `null` passes that check, so the wrapper must never answer it
 *   (the controller would record no dictionary either).
 * - The root entry (`@steadyfn/handler`) knows it runs on OpenWhisk only from the
 *   `__OW_ACTIVATION_ID` that `doRun` writes into `process.env` before calling `main`.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as owHandler } from '../src/openwhisk.js';
import { handler as rootHandler, type Context } from '../src/index.js';

type Rec = Record<string, any>;
type Main = (params: unknown) => unknown;

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

/**
 * service.js `runCode`/`doRun` and runner.js `run` as read (see the header): `valueAsIs` is the
 * earlier service.js, which passed an absent `value` on as `undefined`.
 */
async function runtimeRun(main: Main, body: Rec, valueAsIs = false): Promise<{ status: number; body: unknown }> {
  const msg: Rec = { ...body };
  if (!valueAsIs && (msg.value === null || msg.value === undefined)) msg.value = {};
  for (const p of ['api_key', 'namespace', 'action_name', 'activation_id', 'transaction_id', 'deadline']) {
    if (typeof msg[p] === 'string') process.env[`__OW_${p.toUpperCase()}`] = msg[p] as string;
  }
  let result: unknown;
  try {
    result = await Promise.resolve(main(msg.value)).then(
      (r) => (r === undefined ? {} : r),
      (error: unknown) => ({ error: error instanceof Error ? { message: error.message, stack: error.stack } : (error ?? {}) }),
    );
  } catch (error) {
    return { status: 502, body: { error: `An error has occurred: ${String(error)}` } };
  }
  return typeof result !== 'object' ? { status: 502, body: { error: 'The action did not return a dictionary.' } } : { status: 200, body: result };
}

function runBody(value: unknown): Rec {
  const id = randomUUID().replaceAll('-', '');
  const body: Rec = { namespace: 'guest', action_name: '/guest/demo/hello', activation_id: id, transaction_id: `tid-${id}`, api_key: `${randomUUID()}:${randomUUID()}`, deadline: String(Date.now() + 60_000) };
  if (value !== undefined) body.value = value;
  return body;
}

const entries = [
  ['@steadyfn/handler/openwhisk', owHandler],
  ['@steadyfn/handler (detected from __OW_ACTIVATION_ID)', rootHandler],
] as const;

describe.each(entries)('the action runtime contract, %s', (_entry, handler) => {
  it.each([
    ['absent (earlier service.js: main(undefined))', undefined, true],
    ['null (earlier service.js: main(null))', null, true],
    ['absent (current service.js: {})', undefined, false],
  ] as const)('runs an activation whose value is %s as one without parameters', async (_how, value, valueAsIs) => {
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const main = handler({ logSink: () => undefined }, (input, ctx) => {
      seen.push({ input, ctx });
      return { ran: true };
    }) as Main;
    const body = runBody(value);
    const answer = await runtimeRun(main, body, valueAsIs);
    expect(answer).toEqual({ status: 200, body: { ran: true } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.input).toEqual({});
    expect(seen[0]!.ctx).toMatchObject({ provider: 'openwhisk', requestId: body.activation_id, deadline: Number(body.deadline) });
  });

  it('never answers null (which passes the runtime\'s typeof check as an object): a null result is a dictionary holding it', async () => {
    const main = handler({ logSink: () => undefined }, () => null) as Main;
    const answer = await runtimeRun(main, runBody({}));
    expect(answer).toEqual({ status: 200, body: { result: null } });
  });

  it('answers a web action\'s null result as an empty 200 response, a dictionary', async () => {
    const main = handler({ logSink: () => undefined }, () => null) as Main;
    const answer = await runtimeRun(main, runBody({ __ow_method: 'get', __ow_headers: {}, __ow_path: '' }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ statusCode: 200 });
  });
});
