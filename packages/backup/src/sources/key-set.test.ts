import { describe, expect, it } from 'vitest';
import { KeySet } from './key-set.js';

describe('KeySet', () => {
  it('adds each key once, across growth, for strings and bytes alike', () => {
    const set = new KeySet();
    const n = 50_000;
    // The keys whose add() answered otherwise, checked at once: 100,000 expect() calls took 10 s
    // of the 30 s a test has in a loaded run of the package.
    const notAdded: number[] = [];
    for (let i = 0; i < n; i++) if (set.add(`key:${i}`) !== true) notAdded.push(i);
    expect(notAdded).toEqual([]);
    expect(set.size).toBe(n);
    // Every key again, as bytes (SCAN returns Buffers): all already there.
    const addedAgain: number[] = [];
    for (let i = 0; i < n; i++) if (set.add(Buffer.from(`key:${i}`)) !== false) addedAgain.push(i);
    expect(addedAgain).toEqual([]);
    expect(set.size).toBe(n);
    // Binary keys that are not UTF-8, and keys that differ only in one byte.
    expect(set.add(Buffer.from([0xff, 0xfe, 0x00]))).toBe(true);
    expect(set.add(Buffer.from([0xff, 0xfe, 0x01]))).toBe(true);
    expect(set.add(Buffer.from([0xff, 0xfe, 0x00]))).toBe(false);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
    expect(set.size).toBe(n + 3);
  });

  it('takes 12 bytes a slot with 35–70 % of slots used: 17–35 bytes per key', () => {
    const set = new KeySet();
    for (let i = 0; i < 100_000; i++) set.add(`k${i}`);
    expect(set.bytes / set.size).toBeLessThanOrEqual(12 / 0.35);
    expect(set.bytes / set.size).toBeGreaterThanOrEqual(12 / 0.7);
  });
});
