import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartSpool, removeStaleSpools } from './spool.js';

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

  it('removes the spools of an earlier process with this pid, keeps its own, other hosts’ and other names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoolstale-'));
    try {
      const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
      const earlier = `steadyfn-restore-${host}.${process.pid}.00000000-aaaaaa`;
      const otherHost = `steadyfn-restore-ffffffff.${process.pid}.00000000-bbbbbb`;
      for (const name of [earlier, otherHost, 'steadyfn-restore-cccccc']) mkdirSync(join(dir, name));
      const own = (await PartSpool.open(dir))!;
      const mine = readdirSync(dir).filter((d) => ![otherHost, 'steadyfn-restore-cccccc'].includes(d));
      expect(mine).toHaveLength(1);
      await removeStaleSpools(dir);
      expect(readdirSync(dir).sort()).toEqual([...mine, otherHost, 'steadyfn-restore-cccccc'].sort());
      await own.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
