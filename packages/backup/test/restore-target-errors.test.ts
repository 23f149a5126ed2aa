/**
 * Failures of the restore target before its first write — a refused connection (MongoDB's
 * `hello` in `prepare`, FerretDB behind a cut proxy), failed authentication (FerretDB's
 * `AuthenticationFailed`, Redis `WRONGPASS`) — reach the caller typed: retryable
 * `RestoreTargetUnavailableError` or terminal `RestoreTargetRefusedError`, with the driver
 * error's class and code only (never its message: addresses, user names), and nothing written.
 * On FerretDB 1.24, Redis 7 and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { Redis } from 'ioredis';
import { startProxy } from '../../../test/support/proxy.js';
import { RestoreTargetRefusedError, RestoreTargetUnavailableError, mongoSource, mongoTarget, redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe('restore target failures before the first write', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'targeterr' });
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    source = await freshDb('tgterrsrc');
    await source.collection<{ _id: number; v: string }>('orders').insertMany([{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }]);
    expect(await snapshotBackup({ source: mongoSource({ db: source }), target: storage() }).run()).toMatchObject({ status: 'complete' });
  });
  afterAll(async () => {
    await source.dropDatabase();
    await s3.drop();
  });

  it('MongoDB: a refused connection is a retryable RestoreTargetUnavailableError, nothing written', async () => {
    const url = new URL(process.env.MONGODB_URI!);
    const proxy = await startProxy(url.hostname, Number(url.port));
    const dbName = unique('tgtdown').replace(/[^a-z0-9_]/g, '_');
    const client = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/`, { serverSelectionTimeoutMS: 800 });
    await proxy.cut();
    try {
      const error = await restore({ backup: { storage: storage(), id: 'latest' }, target: mongoTarget({ db: client.db(dbName) }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreTargetUnavailableError);
      expect(error).toMatchObject({ code: 'RESTORE_TARGET_UNAVAILABLE', retryable: true });
      expect((error as Error).message).toContain('MongoServerSelectionError');
      expect((error as Error).message).not.toContain(String(proxy.port));
      // The drill's scratch check meets the same failure: typed, and no verdict on the backup.
      const drill = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: client.db(dbName) }) }).catch((e: unknown) => e);
      expect(drill).toBeInstanceOf(RestoreTargetUnavailableError);
      const real = (await (await import('./support.js')).mongoClient()).db(dbName);
      expect(await real.listCollections().toArray()).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('MongoDB: failed authentication is a terminal RestoreTargetRefusedError without the user name, nothing written', async () => {
    const url = new URL(process.env.MONGODB_URI!);
    const dbName = unique('tgtauth').replace(/[^a-z0-9_]/g, '_');
    const client = new MongoClient(`mongodb://secretuser:secretpw@${url.host}/?authSource=admin`, { serverSelectionTimeoutMS: 2000 });
    try {
      const error = await restore({ backup: { storage: storage(), id: 'latest' }, target: mongoTarget({ db: client.db(dbName) }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreTargetRefusedError);
      expect(error).toMatchObject({ code: 'RESTORE_TARGET_REFUSED', retryable: false });
      expect((error as Error).message).toContain('MongoServerError 18');
      expect((error as Error).message).not.toMatch(/secret/);
      const real = (await (await import('./support.js')).mongoClient()).db(dbName);
      expect(await real.listCollections().toArray()).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('Redis: WRONGPASS is a terminal RestoreTargetRefusedError without the user name, nothing written', async () => {
    const live: Redis = await redisClient();
    const prefix = `${unique('tgtredis')}:`;
    const bad = new Redis(process.env.REDIS_URL!, { username: 'secretuser', password: 'secretpw', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    bad.on('error', () => undefined);
    try {
      await live.set(`${prefix}a`, '1');
      const redisStorage = { ...storage(), prefix: 'targeterr-redis' };
      expect(await snapshotBackup({ source: redisSource({ client: live, pattern: `${prefix}*` }), target: redisStorage }).run()).toMatchObject({ status: 'complete' });
      const scratch = `${unique('tgtscratch')}:`;
      const error = await restore({ backup: { storage: redisStorage, id: 'latest' }, target: redisTarget({ client: bad, keyPrefix: scratch }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreTargetRefusedError);
      expect(error).toMatchObject({ code: 'RESTORE_TARGET_REFUSED', retryable: false });
      expect((error as Error).message).toContain('WRONGPASS');
      expect((error as Error).message).not.toMatch(/secret|invalid username/);
      expect(await live.keys(`${scratch}*`)).toEqual([]);
    } finally {
      bad.disconnect();
      await live.del(`${prefix}a`);
      live.disconnect();
    }
  });
});
