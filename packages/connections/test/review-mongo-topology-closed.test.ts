/**
 * `MongoTopologyClosedError` ("Topology is closed"), produced for real by mongodb 7.9 on the
 * shared FerretDB: an operation waits in server selection (its server went away: the loopback
 * proxy in front of FerretDB is closed, so the driver marks the server Unknown and every
 * connect is refused) when the MongoClient is closed — `close()` drains the selection queue with
 * that error. Nothing was written, so the classifier counts it as a connection error that proves
 * the operation unsent:
 *
 * - the function's own driver call, closed by the function (a concurrent invocation's
 *   `ctx.mongo.client.close()`): 503 `CONNECTION_UNAVAILABLE`, retryable, "closed by the
 *   function", without the driver's wording; the next invocation gets a rebuilt client;
 * - a single insert through the handle (`run(…, { single: true })`: repeated only on an error
 *   that proves it unsent), closed by this package (`closeAll`, as on SIGTERM): its repeat comes
 *   while the close is under way, so it is refused — 503 `CONNECTION_UNAVAILABLE`, closed by this
 *   package, nothing stored — and no client is left open. (Before, the repeat connected a
 *   rebuilt client during the close, which nothing closed: still open after `closeAll()`.)
 *
 * Each case records the driver's own error for the operation, so the test proves the error met
 * was this one, not another closed-client error (`MongoExpiredSessionError`, `MongoNotConnectedError`:
 * mongo-closed-direct.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { errorName } from '@steadyfn/handler/internal';
import type { MongoClient } from 'mongodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const db = `topology_closed_${randomUUID().slice(0, 8)}`;
const lines: string[] = [];
let ferretPort: number;

// Requires the service, and drops the file's database after its tests.
useMongoAdmin({ drop: [db] });
beforeAll(() => {
  ferretPort = Number(new URL(process.env.MONGODB_URI!).port);
});
afterEach(async () => {
  await closeAll();
  lines.length = 0;
});

/** Resolves once `operations` operations of `client` wait in the driver's server-selection queue (a private field of mongodb 7: read, never written). */
async function waitingForServer(client: MongoClient, operations = 1): Promise<void> {
  const topology = (client as unknown as { topology?: { waitQueue?: { length: number } } }).topology;
  if (topology?.waitQueue === undefined) throw new Error('mongodb driver without topology.waitQueue: this test must be adapted to it');
  while (topology.waitQueue.length < operations) await new Promise((resolve) => setImmediate(resolve));
}

/** The class name of the driver's rejection of `p` (undefined when it resolves), read without changing what `p` does. */
function driverErrorOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => errorName(err as Record<string, unknown>),
  );
}

async function call(main: (event: unknown, context: unknown) => Promise<unknown>, input: unknown): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
  const deadline = Date.now() + 20_000;
  const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
  const res = (await main(apiGatewayV2(input), context)) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, raw: res.body };
}

describe('MongoTopologyClosedError: the client closed while an operation waits for a server', () => {
  it('the function counts straight through the driver; a concurrent invocation closes the client: 503 CONNECTION_UNAVAILABLE, closed by the function; the next invocation gets a rebuilt client', async () => {
    let proxy: FaultProxy = await startProxy(ferretPort);
    const port = proxy.port;
    try {
      const handle = mongo({ uri: `mongodb://127.0.0.1:${port}/`, db });
      const seen: Array<string | undefined> = [];
      const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, async (input: unknown, ctx) => {
        if ((input as { action?: string }).action === 'close') {
          await ctx.mongo.client.close();
          return { closed: true };
        }
        const counting = ctx.mongo.db.collection('docs').countDocuments({});
        seen.push(await driverErrorOf(counting));
        return { n: await counting, state: connectionsRecord(ctx)?.mongo?.state };
      });
      expect(await call(main, { action: 'count' })).toMatchObject({ status: 200, body: { n: 0 } });
      const client = handle.peek()!.client;
      // FerretDB goes away for this client: its connections are dropped, new ones refused.
      await proxy.close();
      const counting = call(main, { action: 'count' });
      await waitingForServer(client);
      expect(await call(main, { action: 'close' })).toMatchObject({ status: 200 });
      const answer = await counting;
      expect(seen).toEqual([undefined, 'MongoTopologyClosedError']);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
      expect(String(answer.body.detail)).toMatch(/closed by the function .*nothing was sent/);
      // The driver's wording stays in the logs' cause class only.
      for (const text of [answer.raw, ...lines]) expect(text).not.toContain('Topology is closed');
      expect(lines.some((line) => line.includes('"cause":"MongoTopologyClosedError"'))).toBe(true);
      // FerretDB back on the same address: the next invocation succeeds on a rebuilt client.
      proxy = await startProxy(ferretPort, port);
      expect(await call(main, { action: 'count' })).toMatchObject({ status: 200, body: { n: 0, state: 'reconnected' } });
    } finally {
      await proxy.close();
    }
  });

  it('a single insert through the handle (`run(…, { single: true })`); closeAll() closes the client (as on SIGTERM): unsent, and its repeat during the close is refused — CONNECTION_UNAVAILABLE, nothing stored, no client left', async () => {
    let proxy: FaultProxy = await startProxy(ferretPort);
    const port = proxy.port;
    try {
      const handle = mongo({ uri: `mongodb://127.0.0.1:${port}/`, db });
      const attempts: Array<Promise<string | undefined>> = [];
      const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, async (input: unknown) => {
        const { id } = input as { id: string };
        const inserted = await handle.run(
          ({ db: d }) => {
            const inserting = d.collection<{ _id: string }>('docs').insertOne({ _id: id });
            attempts.push(driverErrorOf(inserting));
            return inserting;
          },
          { single: true },
        );
        return { inserted: inserted.insertedId };
      });
      expect(await call(main, { id: randomUUID() })).toMatchObject({ status: 200 });
      const client = handle.peek()!.client;
      const retries = handle.stats.retries;
      await proxy.close();
      // FerretDB is standalone: the driver does not retry a write, so an insert on the dropped
      // pooled connection would fail with MongoNetworkError (CONNECTION_LOST: maybe applied). A read
      // of the test's own on the same client (not through the handle, which would distrust it)
      // meets the dropped connection first: the server is marked Unknown and the read's retry
      // waits for it. The insert then waits in server selection from its start.
      const probe = client.db(db).collection('docs').countDocuments({}).catch((err: unknown) => errorName(err as Record<string, unknown>));
      await waitingForServer(client);
      const id = randomUUID();
      const inserting = call(main, { id });
      await waitingForServer(client, 2);
      // Closed by this package; FerretDB is back on the same address for the rebuilt client.
      const closing = closeAll();
      proxy = await startProxy(ferretPort, port);
      await closing;
      const answer = await inserting;
      // Not CONNECTION_LOST: the error proved the insert unsent (a lost reply would be CONNECTION_LOST).
      expect(answer).toMatchObject({ status: 503, body: { code: 'CONNECTION_UNAVAILABLE', detail: expect.stringMatching(/closed by @steadyfn\/connections .*before this operation was sent/) } });
      // No third attempt: the repeat was refused before it connected anything.
      expect(await Promise.all(attempts)).toEqual([undefined, 'MongoTopologyClosedError']);
      expect(await probe).toBe('MongoTopologyClosedError');
      expect(handle.stats.retries).toBe(retries + 1);
      // Nothing of the handle's is open once closeAll() resolved; the next use connects anew.
      expect(handle.peek()).toBeUndefined();
      expect(await handle.read(({ db: d }) => d.collection<{ _id: string }>('docs').countDocuments({ _id: id }))).toBe(0);
      expect(handle.peek()!.client).not.toBe(client);
    } finally {
      await proxy.close();
    }
  });
});
