import { describe, expect, it } from 'vitest';
import { newOwner } from './owner.js';

describe('newOwner', () => {
  it('gives 22 base64url characters (128 bits), never the same twice across pool refills', () => {
    const seen = new Set<string>();
    // 128 tokens per refill: 5 000 tokens cross about 40 refills.
    for (let i = 0; i < 5_000; i++) {
      const token = newOwner();
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(5_000);
  });

  it('uses every byte of the pool: tokens of one refill share no 16-byte block', () => {
    const tokens = Array.from({ length: 256 }, () => Buffer.from(newOwner(), 'base64url'));
    for (const t of tokens) expect(t.length).toBe(16);
    expect(new Set(tokens.map((t) => t.toString('hex'))).size).toBe(256);
  });
});
