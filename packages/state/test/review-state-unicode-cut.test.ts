/**
 * Review: long failure messages are cut (300 code units per failure, 1 000 for the error's
 * message), and the cut fell between the two halves of a surrogate pair when a character
 * outside the BMP (an emoji in a key name, a description, a custom source's message) sat on the
 * boundary: the `StateError`, and the log lines built from it, held a lone surrogate — a string
 * that is not well-formed Unicode (log pipelines replace or reject it). Cuts now keep whole
 * characters.
 */
import { describe, expect, it } from 'vitest';
import { SourceError, StateError, custom, defineState, type StateIssue } from '../src/index.js';

/** No lone surrogate (String#isWellFormed, typed for the ES2024 lib this package does not use). */
const wellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

describe('cut messages keep whole characters', () => {
  it('a failure message cut at 300 code units', async () => {
    // 298 ASCII, then an emoji (two code units) across the cut.
    const message = `${'x'.repeat(298)}😀 and more`;
    const cache = defineState({
      sources: {
        config: custom({
          load: () => {
            throw new SourceError(message);
          },
        }),
      },
    });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error).toBeInstanceOf(StateError);
    const cut = error.failures[0]!.message;
    expect(cut.length).toBeLessThan(message.length);
    expect(wellFormed(cut)).toBe(true);
    expect(wellFormed(error.message)).toBe(true);
  });

  it("the error's own message cut at 1 000 code units", () => {
    // The summary starts with a fixed prefix; pad so an emoji sits on the 999th code unit.
    const prefix = 'State could not be loaded (1 issue): a: ';
    const failures: StateIssue[] = [{ source: 'a', kind: 'load', field: 'a', message: `${'y'.repeat(998 - prefix.length)}😀😀😀` }];
    const error = new StateError(failures);
    expect(error.message.length).toBeLessThanOrEqual(1_000);
    expect(wellFormed(error.message)).toBe(true);
  });
});
