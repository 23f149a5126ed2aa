import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartSpool } from './spool.js';

describe('PartSpool', () => {
  it('gives back each part as kept, and removes its file when closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooltest-'));
    try {
      const spool = (await PartSpool.open(dir))!;
      await spool.put('a', 1, Buffer.from('first'));
      await spool.put('b', 1, Buffer.alloc(70_000, 7));
      await spool.put('a', 2, Buffer.from('second'));
      expect((await spool.get('a', 2))!.toString()).toBe('second');
      expect((await spool.get('b', 1))!.equals(Buffer.alloc(70_000, 7))).toBe(true);
      expect((await spool.get('a', 1))!.toString()).toBe('first');
      expect(await spool.get('a', 3)).toBeUndefined();
      expect(spool.bytes).toBe(5 + 70_000 + 6);
      expect(readdirSync(dir)).toHaveLength(1);
      await spool.close();
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is undefined where no temporary file can be made (the restore then reads twice)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoolbad-'));
    try {
      writeFileSync(join(dir, 'file'), 'not a directory');
      expect(await PartSpool.open(join(dir, 'file'))).toBeUndefined();
      expect(await PartSpool.open(join(dir, 'missing'))).toBeUndefined();
      expect(readdirSync(dir)).toEqual(['file']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
