/**
 * What `instanceof` of a SteadyError class costs now that it also recognises errors made by
 * another copy of the package (SteadyError[Symbol.hasInstance]), against the plain prototype
 * check it did before, in the same run. 1,000 checks per sample:
 *
 * - a hit in this copy (the common case: the prototype check answers first);
 * - a miss on a plain `Error` (no brand);
 * - a miss on a branded error of a sibling class (`ConfigurationError` checked as `RetryableError`: the lineages are compared);
 * - a hit on an error branded by another copy (the ESM/CJS pair), simulated by its brand.
 */
import { test } from 'vitest';
import * as errors from '../src/index.js';

// Local bindings: the module runner's export getters would cost more than the checks measured.
const { ConfigurationError, RetryableError, SteadyError } = errors;

const config = new ConfigurationError('x(): option "a" is wrong', { field: 'a', expected: 'b' });
const plain = new Error('x');
// What the other copy's ConfigurationError looks like from here: an Error with the shared brand.
const foreign = Object.defineProperty(new Error('x'), Symbol.for('steadyfn.error.classChain'), { value: Object.freeze(['ConfigurationError', 'SteadyError']) });
const isPrototypeOf = Object.prototype.isPrototypeOf;
const N = 1_000;
let sink = 0;

function p50(results: Map<string, unknown>, name: string): number {
  return ((results.get(name) as { latency: { p50?: number } }).latency.p50 ?? Number.NaN) * 1e6 / N; // ms per N checks -> ns per check
}

test('instanceof across copies against the plain prototype check', async ({ bench }) => {
  const results = (await bench.compare(
    bench('prototype check (before)', () => {
      for (let i = 0; i < N; i++) if (isPrototypeOf.call(ConfigurationError.prototype, config)) sink++;
    }),
    bench('instanceof, hit in this copy', () => {
      for (let i = 0; i < N; i++) if (config instanceof ConfigurationError) sink++;
    }),
    bench('instanceof, miss on a plain Error', () => {
      for (let i = 0; i < N; i++) if (plain instanceof SteadyError) sink++;
    }),
    bench('instanceof, miss on a sibling class', () => {
      for (let i = 0; i < N; i++) if (config instanceof RetryableError) sink++;
    }),
    bench('instanceof, hit from another copy', () => {
      for (let i = 0; i < N; i++) if (foreign instanceof ConfigurationError) sink++;
    }),
  )) as unknown as Map<string, unknown>;
  const base = p50(results, 'prototype check (before)');
  console.log(`[bench] prototype check (before): p50 ${base.toFixed(1)} ns per check`);
  for (const name of ['instanceof, hit in this copy', 'instanceof, miss on a plain Error', 'instanceof, miss on a sibling class', 'instanceof, hit from another copy']) {
    const v = p50(results, name);
    console.log(`[bench] ${name}: p50 ${v.toFixed(1)} ns per check, ${(v / base).toFixed(2)}× the prototype check`);
  }
  if (sink < 0) console.log(sink);
});
