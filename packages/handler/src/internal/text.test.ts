import { describe, expect, it } from 'vitest';
import { cutAt } from './text.js';

describe('cutAt', () => {
  it('keeps a surrogate pair whole: drops it when the cut would split it', () => {
    expect(cutAt('ab😀cd', 3)).toBe('ab');
    expect(cutAt('ab😀cd', 4)).toBe('ab😀');
    expect(cutAt('abcdef', 3)).toBe('abc');
  });

  it('returns text no longer than max as it is', () => {
    expect(cutAt('ab😀', 4)).toBe('ab😀');
    expect(cutAt('', 3)).toBe('');
  });

  it('never ends on a lone high surrogate', () => {
    const text = '😀'.repeat(50);
    for (let max = 1; max < text.length; max++) {
      const cut = cutAt(text, max);
      const last = cut.charCodeAt(cut.length - 1);
      expect(cut.length === 0 || !(last >= 0xd800 && last <= 0xdbff)).toBe(true);
      expect(cut.length >= max - 1 && cut.length <= max).toBe(true);
    }
  });
});
