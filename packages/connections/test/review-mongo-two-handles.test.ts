/**
 * Two `mongo()` handles (`orders`, `audit`), each on the shared FerretDB behind its own fault
 * proxy, and a failure under the function's own `ctx.audit` call, through the real handler and an
 * API Gateway HTTP event. Before, the driver's network error was attributed to the FIRST mongo
 * handle whatever client raised it: "The orders connection was lost", orders pinged, audit left
 * unchecked. Now an error that names a server (a failed server selection) is the client's that
 * uses that server; one that names none (a reset: "read ECONNRESET") names both handles and both
 * are checked before their next use.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const db = `two_mongo_${randomUUID().slice(0, 8)}`;
const admin = useMongoAdmin({ drop: [db] });
const proxies: FaultProxy[] = [];

afterEach(async () => {
  await closeAll();
  for (const p of proxies.splice(0)) await p.close().catch(() => undefined);
});

const sharedPort = (): number => Number(new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117/').port);

async function proxy(listenPort = 0): Promise<FaultProxy> {
  const p = await startProxy(sharedPort(), listenPort);
  proxies.push(p);
  return p;
}

function app(orders: ReturnType<typeof mongo>, audit: ReturnType<typeof mongo>) {
  return handler({ use: [connections({ orders, audit }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) => {
    const { id } = input as { id: string };
    await ctx.audit.db.collection<{ _id: string }>('audit').insertOne({ _id: id });
    const record = connectionsRecord(ctx);
    return { inserted: id, orders: record?.orders?.state, audit: record?.audit?.state };
  });
}

async function call(main: ReturnType<typeof app>, id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + 20_000;
  const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
  const res = (await main(apiGatewayV2({ id }), context)) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

const handleOn = (name: string, port: number, options: Record<string, number>) =>
  mongo({ name, uri: `mongodb://127.0.0.1:${port}/`, db, options: { heartbeatFrequencyMS: 60_000, ...options } });

describe('a driver network error with two mongo() handles', () => {
  it('a reset under ctx.audit names no server: 503 naming both handles (not orders alone), and both are checked next', async () => {
    const [a, b] = [await proxy(), await proxy()];
    const main = app(handleOn('orders', a.port, {}), handleOn('audit', b.port, {}));
    expect((await call(main, 'r1')).status).toBe(200);
    b.halfOpenAll();
    const lost = await call(main, 'r2');
    expect(lost.status).toBe(503);
    expect(lost.body).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(String(lost.body.detail)).toMatch(/^The orders or audit connection was lost/);
    // Both may be concerned: both are pinged before their next use (audit's ping waits for its driver's monitor: see review-mongo-direct-network).
    expect(await call(main, 'r3')).toMatchObject({ status: 200, body: { orders: 'revalidated', audit: 'revalidated' } });
  });

  it('a failed server selection on audit names audit only; orders is not pinged, audit is', async () => {
    const a = await proxy();
    let b = await proxy();
    const audit = handleOn('audit', b.port, { serverSelectionTimeoutMS: 1_500, heartbeatFrequencyMS: 500 });
    const main = app(handleOn('orders', a.port, {}), audit);
    expect((await call(main, 's1')).status).toBe(200);
    const unknown = new Promise<void>((resolve) =>
      audit.peek()!.client.on('serverDescriptionChanged', (event) => {
        if (event.newDescription.type === 'Unknown') resolve();
      }),
    );
    const port = b.port;
    await b.close();
    await unknown;
    const gone = await call(main, 's2');
    expect(gone.status).toBe(503);
    expect(gone.body).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    expect(String(gone.body.detail)).toMatch(/\baudit\b/);
    expect(String(gone.body.detail)).not.toMatch(/\borders\b/);
    // The server comes back on the same port: audit is checked, orders reused as it was.
    b = await proxy(port);
    expect(await call(main, 's3')).toMatchObject({ status: 200, body: { orders: 'reused', audit: expect.stringMatching(/^(revalidated|reconnected)$/) } });
    expect(await admin.db(db).collection<{ _id: string }>('audit').countDocuments({ _id: { $in: ['s1', 's3'] } })).toBe(2);
  });
});
