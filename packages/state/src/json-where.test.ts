/** `jsonErrorOffset` against V8's own parser: invalid exactly when JSON.parse refuses, at V8's position when V8 names one. */
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from './json-where.js';

const seeds = ['{"a":[1,2,{"b":null}],"c":"x\\u00e9\\n","d":-1.5e+3,"e":true,"f":false}', '[ ]', '"s"', '0', ' {"k" : [ 1 , 2 ] } '];
const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u12', 'tru', 'nul', '-', '01', '1.', '.5', 'e5', ' ', '\n', '\t', 'x', '\u0001'];

// A fixed pseudo-random sequence, so a failure can be replayed.
let seed = 42;
const random = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

describe('jsonErrorOffset', () => {
  it('agrees with JSON.parse on 20 000 mutated texts', () => {
    for (let n = 0; n < 20_000; n++) {
      let text = seeds[random(seeds.length)]!;
      for (let k = random(3) + 1; k > 0; k--) {
        const at = random(text.length + 1);
        text = random(2) === 0 ? text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      let message: string | undefined;
      try {
        JSON.parse(text);
      } catch (error) {
        message = (error as Error).message;
      }
      const offset = jsonErrorOffset(text);
      if (message === undefined) expect(offset, text).toBeUndefined();
      else {
        expect(offset, text).toBeTypeOf('number');
        const named = /position (\d+)/.exec(message);
        if (named) expect(offset, text).toBe(Number(named[1]));
      }
    }
  });

  it('gives up, without overflowing the stack, on nesting deeper than it follows', () => {
    expect(jsonErrorOffset(`${'['.repeat(100_000)}x`)).toBeUndefined();
  });
});
