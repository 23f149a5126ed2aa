/**
 * More of the OpenWhisk Node.js action runtime contract, in the runtime stand-in
 * (test/fixtures/openwhisk/runtime, from apache/openwhisk-runtime-nodejs `src/service.js` and
 * `runner.js`) with the package built as a deployment ships it:
 *
 * - One container runs `/init` once and then every `/run` in the same process (`runCode` only
 *   checks the status): `ctx.coldStart` is true for the first activation of a container only,
 *   and again for the first one of the next container.
 * - `runner.js` `initializeActionHandler` evaluates single-file code and answers
 *   `return <main>` first, `module.exports.<main> || exports.<main>` only on a ReferenceError:
 *   with `--main handler`, code that also has a top-level binding named `handler` (the
 *   destructured factory) makes the runtime call that binding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionImage, activation, initBody, post, type Image } from './fixtures/openwhisk/runtime/container.js';

let image: Image;
beforeAll(async () => {
  image = await actionImage(true);
});
afterAll(() => image?.dispose());

const COLD = `
const { handler } = require('@steadyfn/handler/openwhisk');
exports.main = handler({ logSink: () => undefined }, (input, ctx) => ({ coldStart: ctx.coldStart, requestId: ctx.requestId }));
`;

describe('the action runtime reuses its process across activations', () => {
  it('ctx.coldStart: true for the first activation of each container only', async () => {
    const seen: unknown[] = [];
    for (const container of [1, 2]) {
      const c = await image.start();
      expect(await post(c, '/init', initBody(COLD))).toEqual({ status: 200, body: { OK: true } });
      for (const n of [1, 2, 3]) {
        const id = `act-${container}-${n}`;
        const res = await post(c, '/run', activation({}, id));
        expect(res.status).toBe(200);
        seen.push(res.body);
      }
    }
    expect(seen).toEqual([
      { coldStart: true, requestId: 'act-1-1' },
      { coldStart: false, requestId: 'act-1-2' },
      { coldStart: false, requestId: 'act-1-3' },
      { coldStart: true, requestId: 'act-2-1' },
      { coldStart: false, requestId: 'act-2-2' },
      { coldStart: false, requestId: 'act-2-3' },
    ]);
  });
});

describe('the entry point name (`--main`)', () => {
  it('--main handler with exports.handler = handler(…) and no other top-level `handler`: the wrapped function runs', async () => {
    const c = await image.start();
    const code = `const steady = require('@steadyfn/handler/openwhisk');\nexports.handler = steady.handler({ logSink: () => undefined }, (input) => ({ got: input }));\n`;
    expect(await post(c, '/init', initBody(code, 'handler'))).toEqual({ status: 200, body: { OK: true } });
    expect(await post(c, '/run', activation({ a: 1 }, 'act-main-1'))).toEqual({ status: 200, body: { got: { a: 1 } } });
  });
});
