import { describe, expect, it } from 'vitest';
import { appliedBefore, type SettledRecordLike } from './applied-before.js';

const records = new Map<string, SettledRecordLike>([
  ['done', { status: 'completed', fingerprint: 'f', result: 'r' }],
  ['held', { status: 'in_progress', fingerprint: 'f' }],
]);
const get = async (key: string) => records.get(key);

describe('appliedBefore', () => {
  it('a completion took effect only when the record is completed with its fingerprint and result', async () => {
    expect(await appliedBefore(get, { key: 'done', fingerprint: 'f', result: 'r' })).toBe(true);
    expect(await appliedBefore(get, { key: 'done', fingerprint: 'f', result: 'other' })).toBe(false);
    expect(await appliedBefore(get, { key: 'done', fingerprint: 'g', result: 'r' })).toBe(false);
    expect(await appliedBefore(get, { key: 'held', fingerprint: 'f', result: 'r' })).toBe(false);
    expect(await appliedBefore(get, { key: 'gone', fingerprint: 'f', result: 'r' })).toBe(false);
  });
  it('a release took effect only when the record is gone', async () => {
    expect(await appliedBefore(get, { key: 'gone' })).toBe(true);
    expect(await appliedBefore(get, { key: 'held' })).toBe(false);
  });
});
