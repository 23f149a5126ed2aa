import { describe, expect, it } from 'vitest';
import { BackupCorruptedError } from '../errors.js';
import { checkSegmentKeys, resolveSegmentKeys, segmentPath } from './segment-keys.js';

const id = '019ad0c1-0000-7000-8000-000000000001';

describe('segment keys', () => {
  it('takes the part after backups/<id>/ of a written key, or a relative one', () => {
    expect(segmentPath(`shop/backups/${id}/data/orders/00000.ndjson.gz`, id)).toBe('data/orders/00000.ndjson.gz');
    expect(segmentPath(`backups/${id}/data/keyspace%3A*/00001.ndjson.gz`, id)).toBe('data/keyspace%3A*/00001.ndjson.gz');
    expect(segmentPath('data/orders/00000.ndjson.gz', id)).toBe('data/orders/00000.ndjson.gz');
  });
  it('refuses a key outside the backup', () => {
    for (const key of [
      `/shop/backups/${id}/data/orders/00000.ndjson.gz`,
      'shop/backups/019ad0c1-0000-7000-8000-000000000002/data/orders/00000.ndjson.gz',
      `shop/backups/${id}/data/../../x/data/a/1.ndjson.gz`,
      `shop/backups/${id}/data/a/../1.ndjson.gz`,
      `shop/backups/${id}/manifest.json`,
      'data/./x',
      'data//x',
      'other/key',
    ]) expect(segmentPath(key, id), key).toBeUndefined();
  });
  it('names the field of a refused key and resolves the others under the folder read from', () => {
    const manifest = { backupId: id, datasets: [{ segments: [{ key: `a/backups/${id}/data/o/00000.ndjson.gz` }, { key: 'x/../y' }] }] };
    expect(() => checkSegmentKeys(manifest, 'm')).toThrow(BackupCorruptedError);
    try {
      checkSegmentKeys(manifest, 'm');
    } catch (error) {
      expect((error as BackupCorruptedError).problems[0]?.message).toMatch(/^datasets\.0\.segments\.1\.key: expected/);
    }
    const ok = { backupId: id, datasets: [{ segments: [{ key: `a/backups/${id}/data/o/00000.ndjson.gz` }] }] };
    expect(resolveSegmentKeys(ok, `b/backups/${id}`).datasets[0]!.segments[0]!.key).toBe(`b/backups/${id}/data/o/00000.ndjson.gz`);
  });
});
