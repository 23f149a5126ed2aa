/**
 * The packer's round-robin placement with `onePerGroup` (pack.ts): batches stay full by mixing
 * groups, each group's messages in later and later batches. The general properties (every item
 * once, limits, group order) are fuzzed in sqs.fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { packBatches, type PackItem } from './pack.js';

/** `groups` groups of `each` messages of `bytes`, in the order a relay round hands them over: group by group. */
const grouped = (groups: number, each: number, bytes = 100): PackItem[] =>
  Array.from({ length: groups * each }, (_, i) => ({ bytes, group: `g${Math.floor(i / each)}` }));

describe('packBatches with onePerGroup', () => {
  it('fills every batch when there are at least as many groups as entry slots (25 groups of 10: 25 calls, not 30)', () => {
    const items = grouped(25, 10);
    const batches = packBatches(items, { maxEntries: 10, maxBytes: 1_048_576, onePerGroup: true });
    expect(batches).toHaveLength(25);
    for (const batch of batches) expect(batch).toHaveLength(10);
  });

  it('puts each group message k in a later batch than message k−1, one per batch, entries in input order', () => {
    const items = grouped(13, 7);
    const batches = packBatches(items, { maxEntries: 10, maxBytes: 1_048_576, onePerGroup: true });
    expect(batches.flat().sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    const batchOf = new Map<number, number>();
    batches.forEach((batch, b) => {
      expect(batch).toEqual([...batch].sort((x, y) => x - y));
      expect(new Set(batch.map((i) => items[i]!.group)).size).toBe(batch.length);
      for (const i of batch) batchOf.set(i, b);
    });
    for (let i = 1; i < items.length; i++) if (items[i]!.group === items[i - 1]!.group) expect(batchOf.get(i)!).toBeGreaterThan(batchOf.get(i - 1)!);
    // 91 messages of 13 groups: 10 calls, the least there can be.
    expect(batches).toHaveLength(10);
  });

  it('still cuts by bytes: the round-robin never puts more than maxBytes in a batch of two or more', () => {
    const items = grouped(12, 3, 400);
    const batches = packBatches(items, { maxEntries: 10, maxBytes: 1_000, onePerGroup: true });
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(2);
    expect(batches).toHaveLength(18);
  });

  it('without onePerGroup, places in input order as before (one group shares a batch)', () => {
    expect(packBatches(grouped(1, 10), { maxEntries: 10, maxBytes: 1_048_576 })).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });
});
