/**
 * `isRedisScore` against the real Redis 7 server: for a table of known cases and for
 * generated numeric-looking strings (signs, digits, points, exponents, hexadecimal floats,
 * `inf`/`nan` spellings, white space, extreme exponents), our verdict must equal the server's
 * answer to `ZADD key <score> m`. Review finding: `inf`, `+inf`, `-inf` were refused by the
 * Redis-mode argument check though Redis takes them.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisBackend } from '../../test/support.js';
import { isRedisScore } from './redis-score.js';

let backend: RedisBackend;
beforeAll(async () => {
  backend = await openRedis('redis');
});
afterAll(async () => {
  await backend?.close();
});

/** ZADD's option words: in the score's place the server reads one as an option, not a score. */
const ZADD_OPTION = /^(nx|xx|gt|lt|ch|incr)$/i;

/** The server's verdict: does `ZADD` take `score`? */
async function serverTakes(score: string): Promise<boolean> {
  const key = `${backend.prefix}scores`;
  return backend.client.zadd(key, score as never, 'm').then(
    () => true,
    (error: Error) => {
      // `ZADD key xX m` is a syntax error (an option, then no score-member pair): not a score either.
      if (ZADD_OPTION.test(score) && /syntax error|not a valid float/.test(error.message)) return false;
      if (!/not a valid float/.test(error.message)) throw error;
      return false;
    },
  );
}

const piece = fc.constantFrom('', '+', '-', '0', '1', '9', '00', '.', 'e', 'E', 'e+', 'e-', '5', 'x', 'X', '0x', 'p', 'P', 'p-', 'a', 'f', 'F', 'inf', 'INF', 'inity', 'nan', 'NaN', ' ', '\t', '\n', '_', '308', '309', '324', '400', '1074', '1075', '1024', '1023', 'ffffffffffffff', '8');
const numericString = fc.oneof(
  fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')),
  fc.double().map(String),
  fc.double().map((d) => d.toExponential()),
  fc.tuple(fc.constantFrom('', '-', '+'), fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.integer({ min: -1200, max: 1200 })).map(([sign, m, p]) => `${sign}0x${m.toString(16)}p${p}`),
  fc.tuple(fc.constantFrom('', '-'), fc.integer({ min: 1, max: 9 }), fc.integer({ min: -340, max: 320 })).map(([sign, d, e]) => `${sign}${d}e${e}`),
);

describe('ZADD scores: our check against the real server', () => {
  it.each(['xX', 'nx', 'INCR', 'ch', 'inf', '+inf', '-inf', 'Infinity', '1e3', ' 1', '1 ', '0x10', '0x1p-3', 'nan', '1.5e400', '1e-400', '4e-320', '0e-400', '', '.', '5.', '-0', '0x', '0x1p', '0x1p1024', '0x1p-1074', '0x1p-1075', '0x1.8p-1075'])('%j', async (score) => {
    expect(isRedisScore(score)).toBe(await serverTakes(score));
  });

  it('agrees on generated numeric strings', async () => {
    await fc.assert(
      fc.asyncProperty(numericString, async (score) => {
        expect(isRedisScore(score)).toBe(await serverTakes(score));
      }),
      { numRuns: 1500 },
    );
  });
});
