import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.js';

async function* numbers(n: number, log: string[], failAt = -1): AsyncGenerator<number> {
  try {
    for (let i = 0; i < n; i++) {
      if (i === failAt) throw new Error('source broke');
      log.push(`read ${i}`);
      yield i;
    }
  } finally {
    log.push('closed');
  }
}

describe('readAhead', () => {
  it('yields everything in order, reading at most `max` ahead', async () => {
    const log: string[] = [];
    const out: number[] = [];
    for await (const n of readAhead(numbers(10, log), 3)) {
      out.push(n);
      // The source is never more than 3 (+1 in flight) ahead of the consumer.
      expect(log.filter((l) => l.startsWith('read')).length - out.length).toBeLessThanOrEqual(4);
    }
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.at(-1)).toBe('closed');
  });
  it('passes a source failure on, and closes the source when the consumer stops early', async () => {
    await expect(async () => {
      for await (const _ of readAhead(numbers(10, [], 4), 2)) void _;
    }).rejects.toThrow('source broke');
    const log: string[] = [];
    for await (const n of readAhead(numbers(1000, log), 5)) if (n === 2) break;
    expect(log.at(-1)).toBe('closed');
    expect(log.length).toBeLessThan(20);
  });
});
