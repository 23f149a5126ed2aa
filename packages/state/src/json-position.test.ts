/** `parseJson` + `withJsonPosition` against V8's own parser on mutated texts: refused exactly when JSON.parse refuses, at V8's position when V8 names one, never quoting the text. */
import { describe, expect, it } from 'vitest';
import { SourceError } from './errors.js';
import { jsonErrorAt, parseJson, withJsonPosition } from './util.js';

const seeds = ['{"a":[1,2,{"b":null}],"c":"x\\u00e9\\n","d":-1.5e+3,"e":true,"f":false}', '[ ]', '"s"', '0', ' {"k" : [ 1 , 2 ] } '];
const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u12', 'tru', 'nul', '-', '01', '1.', '.5', 'e5', ' ', '\n', '\t', 'x', '\u0001'];

// A fixed pseudo-random sequence, so a failure can be replayed.
let seed = 42;
const random = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

async function failure(text: string): Promise<SourceError | undefined> {
  try {
    parseJson(text, 'the object');
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(SourceError);
    return (await withJsonPosition(error)) as SourceError;
  }
}

describe('parseJson and withJsonPosition', () => {
  it('refuse what JSON.parse refuses, with a position inside the text, on 5 000 mutated texts', async () => {
    let unnamed = 0;
    for (let n = 0; n < 5_000; n++) {
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
      const error = await failure(text);
      if (message === undefined) {
        expect(error, text).toBeUndefined();
        continue;
      }
      const at = /at character (\d+)\)$/.exec(error!.message);
      expect(at, `${text} → ${error!.message}`).not.toBeNull();
      expect(Number(at![1])).toBeLessThanOrEqual(text.length);
      const named = /position (\d+)/.exec(message);
      if (named) expect(Number(at![1]), text).toBe(Number(named[1]));
      else unnamed++;
    }
    // The mutations do reach the failures V8 gives no position for (the case jsonc-parser places).
    expect(unnamed).toBeGreaterThan(100);
  });

  it('places an unexpected token V8 only quotes, keeps a path given by jsonErrorAt, and never quotes the text', async () => {
    const error = await failure('{"token":"hunter2",}');
    expect(error!.message).toBe('the object is not valid JSON (at character 19)');
    let thrown: unknown;
    try {
      parseJson('{"token":"hunter2" "x"}', 'field cfg');
    } catch (e) {
      thrown = jsonErrorAt(e, 'cfg');
    }
    const placed = (await withJsonPosition(thrown)) as SourceError;
    expect(placed.message).toBe('field cfg is not valid JSON (at character 19)');
    expect(placed.path).toBe('cfg');
  });

  it('leaves any other error as it is', async () => {
    const other = new SourceError('hash does not exist');
    expect(await withJsonPosition(other)).toBe(other);
    expect(await withJsonPosition('x')).toBe('x');
  });
});
