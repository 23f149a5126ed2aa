/**
 * A Redis target keeps what one restore call read and noted per call (src/restore/redis.ts:
 * `prepare` hands back a token, `PreparedRestore.call`), not on the target object: `prepare`
 * runs before the restore lock, so a second call on the same target object — refused as busy
 * later — used to reset the first call's stream-group losses, and the first reported none.
 *
 * Own Redis 7 server, moto S3. The target's version is read as 6.2 (its `INFO` answer rewritten
 * by the client wrapper: no Redis 6 binary here) so the checks note what it cannot keep (a
 * group's entries-read); the restore then leaves `ENTRIESREAD` out, which Redis 7 takes too.
 * The wrapper also holds each call at its restore-lock announcement (`SADD` of the lock-prefix
 * set), the step right before the claim, so the two calls interleave deterministically.
 */
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RestoreTargetBusyError, redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { REDIS_LOCK_PREFIXES_KEY } from '../src/restore/lock-places.js';
import { closeMongo, gatedClient } from './support.js';
import { withOwnRedis, type OwnRedisRestore } from './support-restore.js';

afterAll(closeMongo);

/** A gate a call waits at: `reached` once it arrives, held until `go()`. */
function gate() {
  let arrived!: () => void;
  let go!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const open = new Promise<void>((r) => (go = r));
  return { reached, go, wait: () => (arrived(), open) };
}

/** `redis` answering `INFO` as a 6.2 server, the n-th lock announcement held at `gates[n]`. */
function olderAndGated(redis: Redis, gates: Array<ReturnType<typeof gate>>): Redis {
  let announced = 0;
  return new Proxy(redis, {
    get(target, prop) {
      if (prop === 'call') {
        return async (command: string, ...args: unknown[]) => {
          const name = command.toUpperCase();
          if (name === 'INFO') return String(await target.call('INFO', ...(args as string[]))).replace(/redis_version:[\d.]+/, 'redis_version:6.2.0');
          if (name === 'SADD' && args[0] === REDIS_LOCK_PREFIXES_KEY) await gates[announced++]?.wait();
          return target.call(command, ...(args as string[]));
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A typed snapshot backup of the keys `pattern` matches; its id. */
async function typedBackupOf(redis: Redis, storage: OwnRedisRestore['storage'], pattern: string): Promise<string> {
  // One job per pattern: a job backs up one source (snapshot/job-source.ts).
  const done = await snapshotBackup({ source: redisSource({ client: redis, pattern, encoding: 'typed' }), target: storage as never, job: `typed-${Buffer.from(pattern).toString('hex')}` }).run();
  if (done.status !== 'complete') throw new Error('backup did not complete');
  return done.backupId!;
}

describe('redisTarget: per-call restore state', () => {
  it('a second restore on the same target object, refused as busy, leaves the first call’s stream-group warnings intact', async () => {
    await withOwnRedis('cs', async ({ s3, redis, storage }) => {
      for (let i = 1; i <= 20; i++) await redis.xadd('s:stream', `${i}-0`, 'i', String(i));
      await redis.xgroup('CREATE', 's:stream', 'workers', '0');
      await redis.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 5, 'STREAMS', 's:stream', '>');
      const streams = await typedBackupOf(redis, storage, 's:*');
      await redis.set('k:1', 'plain');
      const plain = await typedBackupOf(redis, storage, 'k:*');
      await redis.flushdb();

      const [first, second] = [gate(), gate()];
      const target = redisTarget({ client: olderAndGated(redis, [first, second]) });
      // The first call's apply pass (spoolBytes 0: the data is read again) held at its first read.
      const applying = gatedClient(s3.client, 2);
      const x = restore({ backup: { storage: { ...storage, client: applying.client }, id: streams }, target, spoolBytes: 0 });
      x.catch(() => undefined);
      let y: Promise<unknown> = Promise.resolve();
      try {
        // X prepared and checked its records (noting the group's entries-read), about to claim.
        await first.reached;
        // Y on the same target object: the lock still free, it prepares and checks (a stream-less backup).
        y = restore({ backup: { storage, id: plain }, target });
        y.catch(() => undefined);
        await second.reached;
        first.go();
        // X holds the lock, writing; Y then claims: refused as busy, nothing written.
        await applying.reached;
        second.go();
        await expect(y).rejects.toBeInstanceOf(RestoreTargetBusyError);
      } finally {
        first.go();
        second.go();
        applying.go();
      }
      const report = await x;
      expect(report.warnings.filter((w) => w.includes('entries-read'))).toEqual([expect.stringContaining('"s:stream"')]);
      expect(await redis.xlen('s:stream')).toBe(20);
      expect(await redis.exists('k:1')).toBe(0);
      await y.catch(() => undefined);
    });
  }, 60_000);
});
