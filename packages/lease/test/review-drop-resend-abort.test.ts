/**
 * Review: an insert that meets its collection being dropped on FerretDB (`no such table`,
 * nothing written) is sent again, up to 3 times in all (`insertOneAcrossDrop`). The resend
 * ignored the caller's signal: a claim past its deadline — its caller already rejected with the
 * abort — kept resending in the background and could land a generation nobody was told about.
 * Now nothing is sent once the signal has aborted.
 *
 * On the shared FerretDB 1.24: the lease collection is really dropped under the claim's insert.
 * FerretDB's answer to an insert racing a drop cannot be had on demand (0 in ~300 insert/drop
 * races tried here; ~1 in 400 probe rounds in CI), so the first insert of the key is answered
 * with the driver's `MongoServerError` built from the reply FerretDB sends then (code 1,
 * `no such table`); every other call, the resend included, goes to the server. The control
 * (no abort) shows the rig sees a resend: it lands, on the server.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { mongoLeaseStore, type MongoLeaseCollection } from '../src/index.js';

describe('mongoLeaseStore on FerretDB: an insert that met a drop is not sent again after the abort', () => {
  let mongo: MongoClient;
  const dbName = `steadyfn_lease_drop_abort_${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    await requireService('mongodb');
    mongo = await new MongoClient(process.env.MONGODB_URI!).connect();
  });
  afterAll(async () => {
    await mongo?.db(dbName).dropDatabase().catch(() => undefined);
    await mongo?.close();
  });

  /**
   * The collection as the store sees it: the server's, except that the first insert of `key`'s
   * documents drops the collection, runs `during` (the caller's deadline passing while the insert
   * is out) and is answered as FerretDB answers an insert under a drop. `sent`: inserts of `key`'s
   * documents the store sent.
   */
  function droppedUnderFirstInsert(col: Collection, key: string, during: () => void): { wrapped: MongoLeaseCollection; sent: () => number } {
    let sent = 0;
    const insertOne = async (doc: { k?: unknown }, options: object): Promise<unknown> => {
      if (doc.k !== key) return col.insertOne(doc as never, options);
      sent++;
      if (sent > 1) return col.insertOne(doc as never, options);
      await col.drop();
      during();
      throw new MongoServerError({ ok: 0, code: 1, codeName: 'InternalError', errmsg: `no such table: ${col.collectionName}` });
    };
    const wrapped = new Proxy(col, {
      get(target, name) {
        if (name === 'insertOne') return insertOne;
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as unknown as MongoLeaseCollection;
    return { wrapped, sent: () => sent };
  }

  it('claim with its signal aborted while the insert was out: rejects with the abort, no resend, nothing of the key on the server', async () => {
    const col = mongo.db(dbName).collection(`aborted_${randomUUID().slice(0, 8)}`);
    const controller = new AbortController();
    const { wrapped, sent } = droppedUnderFirstInsert(col, 'order-1', () => controller.abort());
    const store = mongoLeaseStore({ collection: wrapped });
    await store.probe();

    const outcome = await store.claim({ key: 'order-1', owner: 'late', leaseMs: 60_000 }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(outcome).toMatchObject({ name: 'AbortError' });
    // A resend would follow the failed insert at once; give it time to reach the server.
    await new Promise((r) => setTimeout(r, 500));
    expect(sent()).toBe(1);
    expect(await col.find({ k: 'order-1' }).toArray()).toEqual([]);
    // The key is free: the next delivery claims it.
    const next = mongoLeaseStore({ collection: col as never });
    expect(await next.claim({ key: 'order-1', owner: 'next', leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: 1 });
  });

  it('control, no abort: the insert is sent again and lands on the server', async () => {
    const col = mongo.db(dbName).collection(`kept_${randomUUID().slice(0, 8)}`);
    const { wrapped, sent } = droppedUnderFirstInsert(col, 'order-1', () => undefined);
    const store = mongoLeaseStore({ collection: wrapped });
    await store.probe();

    expect(await store.claim({ key: 'order-1', owner: 'on-time', leaseMs: 60_000 }, { signal: new AbortController().signal })).toMatchObject({ claimed: true, fence: 1 });
    expect(sent()).toBe(2);
    expect(await col.find({ k: 'order-1' }).toArray()).toMatchObject([{ k: 'order-1', g: 1, o: 'on-time' }]);
  });
});
