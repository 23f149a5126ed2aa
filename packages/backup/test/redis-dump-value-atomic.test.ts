/**
 * Brief lf item 4, on the real Redis and moto: a key exported whole is read twice — its `DUMP`
 * (what a restore writes) and its value (the content digest a drill compares against). Sent in
 * one pipeline, a write of the same type by another client could land between the two (Redis
 * serves other clients between the chunks it reads of a long pipeline), so the backup held the
 * payload of one value and the digest of another, and its drill failed on a backup that was
 * right. The two reads are one MULTI/EXEC per key now.
 *
 * The interleaving is made certain rather than hoped for: the source's client sends each
 * pipeline in two at every DUMP, and another connection rewrites that key (HSET, same type) in
 * between — as the server may interleave it. Inside MULTI the DUMP is only queued, so the write
 * lands before both reads.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisSource, redisTarget, snapshotBackup, verifyBackup, type RedisLike, type RedisPipelineLike } from '../src/index.js';
import { dropPrefix } from '../../../test/support/redis.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

type Queued = { buffer: boolean; command: string; args: Array<string | Buffer | number> };

/** `client`, whose pipelines are sent in parts, split after each DUMP, with `write(key)` done in between. */
function writeAfterEachDump(client: Redis, write: (key: Buffer | string) => Promise<unknown>): RedisLike {
  return {
    call: (command, ...args) => client.call(command, ...args),
    callBuffer: (command, ...args) => client.callBuffer(command, ...args),
    options: client.options,
    pipeline(): RedisPipelineLike {
      const queued: Queued[] = [];
      return {
        call: (command, ...args) => void queued.push({ buffer: false, command, args }),
        callBuffer: (command, ...args) => void queued.push({ buffer: true, command, args }),
        async exec() {
          const answers: Array<[Error | null, unknown]> = [];
          let part = client.pipeline();
          let size = 0;
          for (const q of queued) {
            if (q.buffer) part.callBuffer(q.command, ...q.args);
            else part.call(q.command, ...q.args);
            size++;
            if (q.command.toUpperCase() !== 'DUMP') continue;
            answers.push(...((await part.exec()) ?? []));
            await write(q.args[0] as Buffer);
            part = client.pipeline();
            size = 0;
          }
          if (size > 0) answers.push(...((await part.exec()) ?? []));
          return answers;
        },
      };
    },
  };
}

describe('a snapshot of hashes rewritten between the reads of each key, on moto', () => {
  it("holds each key's DUMP with the digest of the same value: the drill passes", async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const redis = await redisClient();
    const writer = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 });
    const p = unique('atomic');
    const scratch = `${unique('atomic-scratch')}:`;
    try {
      for (let i = 0; i < 20; i++) await redis.hset(`${p}:h:${i}`, 'n', '0', 'pad', 'x'.repeat(64));
      let writes = 0;
      const source = redisSource({ client: writeAfterEachDump(redis, (key) => writer.hset(key, 'n', String(++writes))), pattern: `${p}:*` });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'atomic' };
      const result = await snapshotBackup({ source, target: storage }).run();
      expect(result.status).toBe('complete');
      expect(writes).toBeGreaterThanOrEqual(20); // every key was rewritten between its reads
      const drill = await verifyBackup({ backup: { storage, id: result.backupId! }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: scratch }) }).catch((e: unknown) => e);
      expect(drill).toMatchObject({ ok: true });
    } finally {
      await dropPrefix(redis, `${p}:`);
      await dropPrefix(redis, scratch);
      writer.disconnect();
      redis.disconnect();
      await s3.drop();
    }
  }, 120_000);
});
