/**
 * The shared MongoDB-wire server (FerretDB) behind a reply-cut proxy, for tests that lose an
 * insert in flight: the proxy, a client through it and one straight to the server, and fresh
 * stores on both sides of one collection.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { mongoLeaseStore, type MongoLeaseStore } from '../../src/index.js';
import { requireService } from '../../../../test/services/env.js';
import { startReplyCutProxy, type ReplyCutProxy } from '../../../../test/support/reply-cut-proxy.js';

/** The bytes of an `insert` command's first field (BSON string element named `insert`): what `proxy.on` matches. */
export const INSERT = '\u0002insert\u0000';

/**
 * Registers the suite's `beforeAll`/`afterAll` (database `db`); read `proxy` inside tests (set
 * once `beforeAll` ran). `stores()`: a store through the proxy and one straight to the server,
 * on a fresh collection, both probed (the probe inserts too, so it is not what a test cuts).
 */
export function proxiedMongo(db: string): { proxy: ReplyCutProxy; stores(): Promise<{ cutStore: MongoLeaseStore; check: MongoLeaseStore }> } {
  let proxied: MongoClient | undefined;
  let direct: MongoClient | undefined;
  const rig = {
    proxy: undefined as unknown as ReplyCutProxy,
    async stores() {
      const name = `c${randomUUID().replaceAll('-', '')}`;
      const cutStore = mongoLeaseStore({ collection: proxied!.db(db).collection(name) });
      const check = mongoLeaseStore({ collection: direct!.db(db).collection(name) });
      await cutStore.probe();
      await check.probe();
      return { cutStore, check };
    },
  };
  beforeAll(async () => {
    await requireService('mongodb');
    rig.proxy = await startReplyCutProxy(Number(new URL(process.env.MONGODB_URI!).port));
    proxied = await new MongoClient(`mongodb://127.0.0.1:${rig.proxy.port}/?directConnection=true`, { serverSelectionTimeoutMS: 5_000 }).connect();
    direct = await new MongoClient(process.env.MONGODB_URI!).connect();
  });
  afterAll(async () => {
    await proxied?.close().catch(() => undefined);
    await direct?.close();
    await rig.proxy?.close();
  });
  return rig;
}
