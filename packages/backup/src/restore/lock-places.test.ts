import { describe, expect, it } from 'vitest';
import { prefixesOverlap, sameRestore } from './lock-places.js';

describe('sameRestore: whether a partial-restore marker is of the restore at hand', () => {
  it('needs the same backup id, and the same manifest checksum when both name one', () => {
    expect(sameRestore({ backupId: 'b1', manifestSha256: 'aa' }, { backupId: 'b1', manifestSha256: 'aa' })).toBe(true);
    expect(sameRestore({ backupId: 'b1', manifestSha256: 'aa' }, { backupId: 'b1', manifestSha256: 'bb' })).toBe(false);
    expect(sameRestore({ backupId: 'b1' }, { backupId: 'b2' })).toBe(false);
    // A marker of an earlier version has no checksum: the id decides.
    expect(sameRestore({ backupId: 'b1' }, { backupId: 'b1', manifestSha256: 'aa' })).toBe(true);
  });
});

describe('prefixesOverlap: whether two Redis key prefixes can name the same key', () => {
  it('is true when one starts with the other', () => {
    expect(prefixesOverlap('', 'a:')).toBe(true);
    expect(prefixesOverlap('a:b:', 'a:')).toBe(true);
    expect(prefixesOverlap('a', 'ab')).toBe(true);
    expect(prefixesOverlap('a:', 'b:')).toBe(false);
    expect(prefixesOverlap('ab', 'ac')).toBe(false);
  });
});
