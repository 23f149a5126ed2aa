/**
 * A Lambda direct invoke with plugins checks its result against the 6 MB the Runtime API
 * accepts (JSON.stringify is how the Node runtime serialises it). A result that is not an
 * object is judged without serialising it when its JSON cannot be that large: a string's JSON
 * is at most 6 bytes per UTF-16 unit (`\u0001` → `\\u0001`) plus its quotes. These pin that the
 * shortcut never lets through what serialising would refuse, at the limit's edge.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '../src/index.js';
import { LAMBDA_RESPONSE_LIMIT_BYTES } from '../src/internal/limits.js';

const lambdaContext = { awsRequestId: 'req-size', functionName: 'f', getRemainingTimeInMillis: () => 60_000 };
const noop: Plugin = { name: 'noop', before: () => undefined };

/** The direct invoke's answer, or the public error it rejected with. */
function answer(result: unknown): Promise<unknown> {
  const main = handler({ use: [noop], logSink: () => undefined }, () => result);
  return main({ direct: true }, lambdaContext).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('a direct invoke result near the 6 MB limit, with a plugin', () => {
  it('sends a string whose JSON is exactly the limit, and refuses one byte more', async () => {
    const fits = 'x'.repeat(LAMBDA_RESPONSE_LIMIT_BYTES - 2);
    expect(await answer(fits)).toEqual({ value: fits });
    expect(await answer(fits + 'x')).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
  });

  it('counts escaped characters as JSON sends them (6 bytes each): refused past the limit, sent within it', async () => {
    // 1,048,593 control characters: 6,291,560 bytes of JSON, 4 over the limit, from a string of 1 MB.
    const over = '\u0001'.repeat(Math.ceil((LAMBDA_RESPONSE_LIMIT_BYTES - 1) / 6));
    expect(JSON.stringify(over).length).toBeGreaterThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    expect(await answer(over)).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
    const within = over.slice(1);
    expect(JSON.stringify(within).length).toBeLessThanOrEqual(LAMBDA_RESPONSE_LIMIT_BYTES);
    expect(await answer(within)).toEqual({ value: within });
  });

  it('counts multi-byte characters in UTF-8 bytes (3 per "€")', async () => {
    const over = '€'.repeat(Math.floor(LAMBDA_RESPONSE_LIMIT_BYTES / 3));
    expect(await answer(over)).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
    expect(await answer(over.slice(1))).toEqual({ value: over.slice(1) });
  });

  it('sends numbers, booleans, null and undefined as they are', async () => {
    for (const value of [0, -1.5e300, true, false, null, undefined]) expect(await answer(value)).toEqual({ value });
  });

  it('still refuses an object whose JSON is over the limit', async () => {
    expect(await answer({ body: 'x'.repeat(LAMBDA_RESPONSE_LIMIT_BYTES) })).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
  });
});
