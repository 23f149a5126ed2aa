/**
 * An action whose entry point resolves to the `handler` factory itself instead of the wrapped
 * function. apache/openwhisk-runtime-nodejs `runner.js` `initializeActionHandler` evaluates
 * single-file code and answers `return <main>` before it looks at `module.exports.<main>` /
 * `exports.<main>`: with `--main handler`, code written as
 * `const { handler } = require('@steadyfn/handler/openwhisk'); exports.handler = handler(…)`
 * hands the runtime the destructured factory, which it then calls with each activation's
 * params. The factory read those params as options and refused the first one as an unknown
 * option, quoting its value: a parameter's name and value (a password, a token) went into the
 * runtime's 502 answer, which the invoker records in the activation, and into the action's log,
 * while the message sent the user looking for an option they never set. Checked in the runtime
 * stand-in (test/fixtures/openwhisk/runtime) with the package built as a deployment ships it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionImage, activation, initBody, post, type Image } from './fixtures/openwhisk/runtime/container.js';
import { handler } from '../src/openwhisk.js';

let image: Image;
beforeAll(async () => {
  image = await actionImage(true);
});
afterAll(() => image?.dispose());

const SECRET = 'hunter2-s3cr3t';

describe('OpenWhisk: the runtime calls the handler() factory with activation params', () => {
  it('fails naming the missing function, and quotes no parameter name or value in the answer or the log', async () => {
    const c = await image.start();
    const code = `const { handler } = require('@steadyfn/handler/openwhisk');\nexports.handler = handler({ logSink: () => undefined }, (input) => ({ got: input }));\n`;
    expect(await post(c, '/init', initBody(code, 'handler'))).toEqual({ status: 200, body: { OK: true } });
    const res = await post(c, '/run', activation({ dbPassword: SECRET }, 'act-factory-1'));
    // A synchronous throw: the runtime answers 502 and stops the container, as for any such action.
    expect(res.status).toBe(502);
    const error = String(res.body.error);
    expect(error).toContain('option "fn"');
    expect(error).not.toContain(SECRET);
    expect(error).not.toContain('dbPassword');
    const log = [...c.stdout, ...c.stderr].join('\n');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('dbPassword');
  });

  it('(control) an unknown option beside a function is still refused by name', () => {
    expect(() => handler({ timeout: 5 } as never, () => undefined)).toThrow(/option "timeout" must be left out/);
  });
});
