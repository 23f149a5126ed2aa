import { describe, expect, it } from 'vitest';
import { LocalCache } from './lru.js';

const entry = (result: string, expiresAt = Date.now() + 60_000) => ({ fingerprint: 'fp', result, expiresAt });

describe('LocalCache', () => {
  it('evicts the least recently used entry past maxEntries', () => {
    const cache = new LocalCache(2, 1_000_000);
    cache.set('a', entry('1'));
    cache.set('b', entry('2'));
    cache.get('a');
    cache.set('c', entry('3'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.result).toBe('1');
    expect(cache.get('c')?.result).toBe('3');
  });

  it('evicts past maxBytes and never keeps an entry larger than the budget', () => {
    const cache = new LocalCache(100, 10);
    cache.set('a', entry('123456'));
    cache.set('b', entry('123456'));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    cache.set('huge', entry('x'.repeat(11)));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('forgets expired entries', () => {
    const cache = new LocalCache(10, 1000);
    cache.set('a', entry('1', 1000));
    expect(cache.get('a', 999)?.result).toBe('1');
    expect(cache.get('a', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
