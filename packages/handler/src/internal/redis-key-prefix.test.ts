import { describe, expect, it } from 'vitest';
import { redisKeyPrefix } from './redis-key-prefix.js';

describe('redisKeyPrefix', () => {
  it("reads a Redis's or a Cluster's keyPrefix, string or bytes; '' without one", () => {
    expect(redisKeyPrefix({ options: { keyPrefix: 'app:' } })).toBe('app:');
    expect(redisKeyPrefix({ options: { keyPrefix: Buffer.from('b:') } })).toBe('b:');
    expect(redisKeyPrefix({ options: { redisOptions: { keyPrefix: 'c:' } } })).toBe('c:');
    expect(redisKeyPrefix({ options: {} })).toBe('');
    expect(redisKeyPrefix({ options: { keyPrefix: 7 } })).toBe('');
    expect(redisKeyPrefix(undefined)).toBe('');
    expect(redisKeyPrefix(() => 1)).toBe('');
  });
});
