/**
 * A write marked `single` on a replica set whose primary answered it (applied) and then went
 * away: the driver's retryable write (retryWrites, on by default) selects a server for its
 * second attempt, finds none within serverSelectionTimeoutMS and throws that
 * `MongoServerSelectionError` — not the first attempt's network error (node-mongodb-native 7,
 * `executeOperation`, against the retryable-writes spec, which says to raise the original error
 * so the caller knows an attempt was made: mongodb/specifications PR #228). The handle took a
 * server-selection error as proof the write was never sent and ran it again on a rebuilt client:
 * an `$inc` applied twice once a primary was back. Shown on the shared FerretDB behind a proxy
 * that presents it as a one-member replica set's primary (so the driver runs its retryable
 * writes), loses the update's reply after the server applied it, and refuses connections until
 * the driver's retry has failed its server selection.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { closeAll } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startPrimaryProxy, type PrimaryProxy } from './support/primary-proxy.js';

const db = `review_rsel_${randomUUID().slice(0, 8)}`;
const admin = useMongoAdmin({ drop: [db] });
let proxy: PrimaryProxy;

beforeAll(async () => {
  proxy = await startPrimaryProxy(Number(new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117').port || 27017));
});
afterAll(async () => {
  await proxy?.close();
});
afterEach(async () => {
  await closeAll();
});

/** Calls `onFailure` when a server selection of `client` fails, before its error goes on (the driver's own error, unchanged). */
function onSelectionFailure(client: MongoClient, onFailure: () => void): void {
  const topology = (client as unknown as { topology: { selectServer: (...args: unknown[]) => Promise<unknown> } }).topology;
  const select = topology.selectServer.bind(topology);
  topology.selectServer = async (...args: unknown[]) => {
    try {
      return await select(...args);
    } catch (error) {
      onFailure();
      throw error;
    }
  };
}

describe('a write marked single whose reply the primary lost, then no primary for the driver\'s retry', () => {
  it('is not run again: CONNECTION_LOST, applied once', async () => {
    const handle = mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&serverSelectionTimeoutMS=1000`, db });
    const id = randomUUID();
    await handle.run(({ db: d }) => d.collection('docs').insertOne({ _id: id as never, n: 0 }), { single: true });
    const { client } = await handle.get();
    // The precondition: the driver sees a replica set primary, so it retries writes.
    const types = [...(client as unknown as { topology: { description: { servers: Map<string, { type: string }> } } }).topology.description.servers.values()].map((s) => s.type);
    expect(types).toEqual(['RSPrimary']);
    // A new primary is back as soon as the driver's retry gave up selecting one (before the handle could rebuild).
    onSelectionFailure(client, () => proxy.accept());
    const lost = proxy.loseReplyOf('update');
    const outcome = await handle
      .run(({ db: d }) => d.collection('docs').updateOne({ _id: id as never }, { $inc: { n: 1 } }), { single: true })
      .then(
        () => 'answered',
        (e: { code?: string; name?: string }) => e.code ?? e.name,
      );
    await lost;
    const stored = await admin.db(db).collection('docs').findOne({ _id: id as never });
    expect(stored?.n, `outcome ${outcome}`).toBe(1);
    expect(outcome).toBe('CONNECTION_LOST');
    // The next invocation works on a rebuilt client.
    await expect(handle.read(({ db: d }) => d.collection('docs').countDocuments({ _id: id as never }))).resolves.toBe(1);
  }, 60_000);
});
