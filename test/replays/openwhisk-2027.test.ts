/**
 * apache/openwhisk#2027 ("Allow array as JSON result (The action did not produce a valid JSON
 * response: [])"); also apache/openwhisk#5500 (array results mishandled where they are allowed)
 * https://github.com/apache/openwhisk/issues/2027
 *
 * An action result must be a JSON object (dictionary in, dictionary out, so actions compose in
 * sequences); a Node.js action returning `[]` — the list a REST call gave it — failed with "The
 * action did not produce a valid JSON response", an application error its caller had not made.
 *
 * steadyfn's OpenWhisk entry always answers a JSON object: a result that is not one (an array,
 * a string, a number, `null`, or an object with an `error` field, which OpenWhisk would read as
 * a failure) is wrapped as `{ result }`; a plain object goes out as it is. Replayed: actions
 * returning each kind; every answer is a plain JSON object a sequence's next action can take.
 */
import { handler } from '../../packages/handler/src/index.js';
import { afterEach, describe, expect, it } from 'vitest';

const ACTIVATION = { __OW_ACTIVATION_ID: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', __OW_ACTION_NAME: '/guest/list-orders', __OW_NAMESPACE: 'guest' };
const saved = Object.fromEntries(Object.keys({ ...ACTIVATION, __OW_DEADLINE: '' }).map((k) => [k, process.env[k]]));

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function activate(result: unknown): Promise<unknown> {
  Object.assign(process.env, ACTIVATION, { __OW_DEADLINE: String(Date.now() + 30_000) });
  const main = handler({ logSink: () => undefined }, () => result);
  return main.openwhisk({ customer: 'c-1' });
}

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

describe('openwhisk#2027: an action whose function returns a non-object still answers a JSON object', () => {
  it.each([
    ['[]', []],
    ['a list of orders', [{ id: 'o-1' }, { id: 'o-2' }]],
    ['a string', 'done'],
    ['a number', 42],
    ['null', null],
    ['an object with an error field', { error: 'none', count: 0 }],
  ])('%s is answered as { result }', async (_label, value) => {
    const answer = await activate(value);
    expect(isPlainObject(answer)).toBe(true);
    expect(JSON.parse(JSON.stringify(answer))).toEqual({ result: value });
  });

  it('a plain object goes out as it is', async () => {
    expect(await activate({ orders: 2 })).toEqual({ orders: 2 });
  });
});
