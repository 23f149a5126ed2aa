/**
 * apache/openwhisk#1562 ("Calling reject() with no reason results in a successful activation
 * result") and apache/openwhisk#1643 ("Handle `Error`s in rejected `Promise`s")
 * https://github.com/apache/openwhisk/issues/1562 · https://github.com/apache/openwhisk/issues/1643
 *
 * The Node.js action runner turned a promise rejected without a reason into a successful
 * activation with an empty result, and one rejected with an `Error` into `{ "error": {} }`
 * (an Error's own properties are not enumerable), so neither the caller nor a trigger's rule
 * could tell what failed.
 *
 * steadyfn answers any failure of the function as `{ error: { code, message, retryable, … } }`.
 * Replayed: actions whose function rejects with nothing, with `undefined`, with `null`, with an
 * `Error`, and that throw a plain string; each activation result carries an `error` naming a
 * code — never a success, never an empty error — and no stack trace.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';

const ACTIVATION = { __OW_ACTIVATION_ID: 'c0ffee', __OW_ACTION_NAME: '/guest/replay', __OW_NAMESPACE: 'guest', __OW_DEADLINE: '' };

describe('openwhisk#1562 / #1643: a rejected action is an error result with something in it', () => {
  const failures: Array<[string, () => unknown]> = [
    ['reject()', () => Promise.reject()],
    ['reject(undefined)', () => Promise.reject(undefined)],
    ['reject(null)', () => Promise.reject(null)],
    ['reject(new Error)', () => Promise.reject(new Error('it broke'))],
    ["throw 'oh no'", () => {
      throw 'oh no';
    }],
  ];

  it.each(failures)('%s: the result is { error: { code, message } }, not a success or an empty error', async (_label, fn) => {
    const main = handler({ logSink: () => undefined }, fn);
    const deadline = String(Date.now() + 30_000);
    for (const env of ['__OW_ACTIVATION_ID', '__OW_ACTION_NAME', '__OW_NAMESPACE'] as const) process.env[env] = ACTIVATION[env];
    process.env.__OW_DEADLINE = deadline;
    try {
      const result = (await main.openwhisk({ order: 'o-1' })) as { error?: { code?: unknown; message?: unknown; stack?: unknown } };
      expect(result.error).toBeDefined();
      expect(result.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      expect(JSON.stringify(result)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    } finally {
      for (const env of ['__OW_ACTIVATION_ID', '__OW_ACTION_NAME', '__OW_NAMESPACE', '__OW_DEADLINE']) delete process.env[env];
    }
  });

  it.each(failures)('%s on Lambda (SQS): the message is reported failed', async (_label, fn) => {
    const { lambdaContext, sqsRecord } = await import('./support.js');
    const main = handler({ logSink: () => undefined }, fn);
    expect(await main.aws({ Records: [sqsRecord('{"order":"o-1"}', { id: 'm-1' })] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});
