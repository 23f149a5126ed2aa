/**
 * Review (restore side): a restore SIGKILLed (a real child process, test/child/restore-child.ts)
 * while it checks a backup leaves its spool directory (`steadyfn-restore-…` under the OS
 * temporary directory, holding the parts read so far) behind: nothing removed it, and every
 * killed restore added one (on a function, `/tmp` fills across invocations). Now the next
 * restore removes the spool directories of dead processes before it makes its own, and never
 * the directory of a live one (the test's own process stands for one). FerretDB (:27117),
 * both S3 servers.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, snapshotBackup } from '../src/index.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a restore killed with SIGKILL, on $name', (server) => {
  it('leaves its spool directory; the next restore removes it, never a live process’s', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('spoolsrc');
    const targetName = unique('spooldst').replace(/[^a-z0-9_]/g, '_').slice(0, 60);
    const tmp = mkdtempSync(join(tmpdir(), 'spoolkill-'));
    const { file, dir } = bundleChild(new URL('./child/restore-child.ts', import.meta.url).href);
    try {
      await source.collection<{ _id: number; v: string }>('orders').insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, v: `v${i}` })));
      expect(await snapshotBackup({ source: mongoSource({ db: source }), target: { client: s3.client, bucket: s3.bucket, prefix: 'sp' } }).run()).toMatchObject({ status: 'complete' });
      const env = { TMPDIR: tmp, CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_PREFIX: 'sp', CHILD_DB: targetName };

      const killed = await runChild(file, { ...env, PAUSE: '1' }, /waiting/);
      expect(killed.killed).toBe(true);
      const left = readdirSync(tmp).filter((d) => d.startsWith('steadyfn-restore-'));
      expect(left, 'spool directories after the kill').toHaveLength(1);

      // A live process's spool (this test process stands for a restore running now): named as a
      // spool of this host, this process's pid, another run token.
      const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
      const live = `steadyfn-restore-${host}.${process.pid}.0badc0de-live01`;
      mkdirSync(join(tmp, live));
      writeFileSync(join(tmp, live, 'parts'), 'in use');
      // Something else in the temporary directory.
      mkdirSync(join(tmp, 'other-tool-dir'));

      const next = await runChild(file, env);
      expect(next.errors).toEqual([]);
      expect(next.output).toContain('done 200 1');
      expect(readdirSync(tmp).sort(), 'after the next restore').toEqual(['other-tool-dir', live].sort());
      expect(readdirSync(join(tmp, live))).toEqual(['parts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
      const { mongoClient } = await import('./support.js');
      await (await mongoClient()).db(targetName).dropDatabase();
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
