/**
 * Review finding on the Redis source, on Redis 7 and moto: a key that existed throughout the
 * run was left out of the backup and counted as "expired or deleted between SCAN and DUMP":
 * (a) a key rewritten with another type between the scan's pipelines (WRONGTYPE on its value
 * read), (b) every key of a module type (ReJSON-RL, Bloom, TimeSeries), though DUMP/RESTORE
 * carry it. Now (a) is read again from its TYPE and saved as what it became, and (b) is saved
 * by its DUMP payload alone, restored by RESTORE, with a note in the manifest's warnings.
 *
 * No Redis server with modules runs here: a module type is simulated by a client proxy that
 * rewrites the TYPE reply of one key (a real hash) to `ReJSON-RL` in every pipeline. The
 * concurrent writer is a proxy too: it rewrites a key's type right after the scan's first
 * pipeline (TYPE and PTTL) answered, before the size and value reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import type { RedisLike, RedisPipelineLike } from '../src/sources/redis.js';
import { freshBucket, readJson, redisClient, S3_SERVERS, unique } from './support.js';

type Sent = Array<{ command: string; key: Buffer }>;

/** Each answer rewritten; inside MULTI…EXEC, the replies EXEC returns, each as its queued command's (the QUEUED answers as they are). */
function rewriteAll(sent: Sent, answers: Array<[Error | null, unknown]>, rewrite: (sent: Sent[number], answer: [Error | null, unknown]) => [Error | null, unknown]): Array<[Error | null, unknown]> {
  let queued: Sent | undefined;
  return answers.map((answer, i): [Error | null, unknown] => {
    const s = sent[i]!;
    if (s.command === 'MULTI') return (queued = []), answer;
    if (s.command === 'EXEC' && queued) {
      const inner = queued;
      queued = undefined;
      if (answer[0] || !Array.isArray(answer[1])) return answer;
      return [null, answer[1].map((reply: unknown, j) => {
        const [error, value] = rewrite(inner[j]!, reply instanceof Error ? [reply, undefined] : [null, reply]);
        return error ?? value;
      })];
    }
    if (queued) return queued.push(s), answer;
    return rewrite(s, answer);
  });
}

/** `redis` whose pipelines rewrite answers (`rewrite`) and run `afterExec` once they answered. */
function proxied(redis: Redis, hooks: { rewrite?: (sent: Sent[number], answer: [Error | null, unknown]) => [Error | null, unknown]; afterExec?: (sent: Sent) => Promise<void> }): RedisLike {
  return new Proxy(redis, {
    get(target, prop) {
      if (prop === 'pipeline') {
        return (): RedisPipelineLike => {
          const real = target.pipeline();
          const sent: Sent = [];
          const note = (command: string, args: unknown[]) => sent.push({ command: command.toUpperCase(), key: Buffer.from(String(args[0] ?? '')) });
          const wrapper: RedisPipelineLike = {
            callBuffer(command, ...args) {
              note(command, args);
              real.callBuffer(command, ...args);
              return wrapper;
            },
            call(command, ...args) {
              note(command, args);
              real.call(command, ...args);
              return wrapper;
            },
            async exec() {
              const answers = ((await real.exec()) ?? []) as Array<[Error | null, unknown]>;
              const out = hooks.rewrite ? rewriteAll(sent, answers, hooks.rewrite) : answers;
              await hooks.afterExec?.(sent);
              return out;
            },
          };
          return wrapper;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as RedisLike;
}

describe('Redis keys that exist throughout the backup are in it', () => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    await s3.drop();
  });

  it('a key rewritten with another type between the pipelines is saved as what it became', async () => {
    const prefix = `${unique('flip')}:`;
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('flip') };
    await redis.hset(`${prefix}flip`, 'a', '1', 'b', '2');
    await redis.set(`${prefix}plain`, 'v');
    let flipped = false;
    const client = proxied(redis, {
      async afterExec(sent) {
        // The scan's first pipeline of a batch (TIME, TYPE, PTTL…) answered: the writer strikes.
        if (!flipped && sent[0]?.command === 'TIME' && sent.some((s) => s.command === 'TYPE' && s.key.toString() === `${prefix}flip`)) {
          flipped = true;
          await redis.del(`${prefix}flip`);
          await redis.set(`${prefix}flip`, 'now a string');
        }
      },
    });
    try {
      const done = await snapshotBackup({ source: redisSource({ client, pattern: `${prefix}*` }), target: storage }).run();
      expect(flipped).toBe(true);
      expect(done).toMatchObject({ status: 'complete', records: 2 });
      if (done.status !== 'complete') return;
      const manifest = await readJson<{ warnings: string[] }>(s3.client, s3.bucket, done.manifestKey);
      expect(manifest!.warnings.filter((w) => w.includes('expired'))).toEqual([]);
      const into = `${unique('flipped')}:`;
      await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: into }) });
      expect(await redis.get(`${into}${prefix}flip`)).toBe('now a string');
      await redis.del(`${into}${prefix}flip`, `${into}${prefix}plain`);
    } finally {
      await redis.del(`${prefix}flip`, `${prefix}plain`);
    }
  }, 60_000);

  it('a key deleted between the pipelines counts as gone; one that keeps changing type fails the run', async () => {
    const prefix = `${unique('gone')}:`;
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('gone') };
    await redis.hset(`${prefix}gone`, 'a', '1');
    await redis.hset(`${prefix}restless`, 'a', '1');
    await redis.set(`${prefix}plain`, 'v');
    const client = proxied(redis, {
      async afterExec(sent) {
        if (sent[0]?.command !== 'TIME') return;
        await redis.del(`${prefix}gone`);
        // Rewritten with the other type after every read of its TYPE.
        if (!sent.some((s) => s.command === 'TYPE' && s.key.toString() === `${prefix}restless`)) return;
        const wasHash = (await redis.type(`${prefix}restless`)) === 'hash';
        await redis.del(`${prefix}restless`);
        if (wasHash) await redis.set(`${prefix}restless`, 'x');
        else await redis.hset(`${prefix}restless`, 'a', '1');
      },
    });
    try {
      const error = await snapshotBackup({ source: redisSource({ client, pattern: `${prefix}*` }), target: storage }).run().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'BACKUP_SOURCE_FAILED', message: expect.stringMatching(/1 Redis key\(s\) changed type between each of 5 reads/) });
      await redis.del(`${prefix}restless`);
      await redis.hset(`${prefix}gone`, 'a', '1');
      const done = await snapshotBackup({ source: redisSource({ client, pattern: `${prefix}*` }), target: { ...storage, prefix: `${storage.prefix}2` } }).run();
      expect(done).toMatchObject({ status: 'complete', records: 1 });
      if (done.status !== 'complete') return;
      const manifest = await readJson<{ warnings: string[] }>(s3.client, s3.bucket, done.manifestKey);
      expect(manifest!.warnings).toContain('1 keys expired or were deleted between SCAN and DUMP (not in the backup)');
    } finally {
      await redis.del(`${prefix}gone`, `${prefix}restless`, `${prefix}plain`);
    }
  }, 60_000);

  describe.each(['auto', 'typed'] as const)('a key of a module type (%s encoding)', (encoding) => {
    it('is saved by its DUMP payload alone, restored byte-exact, noted, and a drill of it passes', async () => {
      const prefix = `${unique('module')}:`;
      const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('module') };
      await redis.hset(`${prefix}doc`, 'a', '1', 'b', '2', 'c', '3');
      await redis.pexpire(`${prefix}doc`, 3_600_000);
      await redis.set(`${prefix}plain`, 'v');
      // Every TYPE reply for a key ending in "doc" (the source's and, in the drill, the scratch copy's) names a module type.
      const client = proxied(redis, {
        rewrite: (sent, answer) => (sent.command === 'TYPE' && sent.key.toString().endsWith(':doc') && !answer[0] && String(answer[1]) !== 'none' ? [null, Buffer.from('ReJSON-RL')] : answer),
      });
      const into = `${unique('restored')}:`;
      try {
        const done = await snapshotBackup({ source: redisSource({ client, pattern: `${prefix}*`, encoding }), target: storage }).run();
        expect(done).toMatchObject({ status: 'complete', records: 2 });
        if (done.status !== 'complete') return;
        const manifest = await readJson<{ warnings: string[] }>(s3.client, s3.bucket, done.manifestKey);
        expect(manifest!.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^1 keys of types without a typed reader \(ReJSON-RL: 1\) are in the backup as DUMP payloads only/)]));
        expect(manifest!.warnings.filter((w) => w.includes('expired'))).toEqual([]);

        await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: into }) });
        expect((await redis.dumpBuffer(`${into}${prefix}doc`))!.equals((await redis.dumpBuffer(`${prefix}doc`))!)).toBe(true);
        expect(await redis.pttl(`${into}${prefix}doc`)).toBeGreaterThan(3_500_000);

        const drill = await verifyBackup({ backup: { storage, id: done.backupId }, level: 'drill', scratch: redisTarget({ client, keyPrefix: `${unique('scratch')}:` }) });
        expect(drill.drill!.datasets).toEqual([expect.objectContaining({ expectedCount: 2, restoredCount: 2, ok: true })]);
      } finally {
        await redis.del(`${prefix}doc`, `${prefix}plain`, `${into}${prefix}doc`, `${into}${prefix}plain`);
      }
    }, 60_000);
  });
});
