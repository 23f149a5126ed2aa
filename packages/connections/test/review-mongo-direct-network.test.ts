/**
 * A connection that fails under the function's own driver call (`ctx.mongo.db.collection(…)`,
 * not through `handle.run`) on the shared FerretDB behind a fault proxy, through the real handler
 * and an API Gateway HTTP event. Before, the driver's raw `MongoNetworkError` reached the handler
 * as the untyped 500 `INTERNAL`, where the same failure of a `ctx.redis` command is the typed 503
 * `CONNECTION_LOST`. Now: a reset under an insert (it may have been applied) is 503
 * `CONNECTION_LOST`, retryable, logged by class and code only; a server that is gone (server
 * selection fails: nothing was sent) is 503 `CONNECTION_UNAVAILABLE`; the next invocation checks
 * the client and succeeds.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const db = `direct_net_${randomUUID().slice(0, 8)}`;
const admin = useMongoAdmin({ drop: [db] });
const lines: string[] = [];
let proxy: FaultProxy | undefined;

afterEach(async () => {
  await closeAll();
  await proxy?.close();
  lines.length = 0;
});

const sharedPort = (): number => Number(new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117/').port);

function app(handle: ReturnType<typeof mongo>) {
  return handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, async (input: unknown, ctx) => {
    const { id, secret } = input as { id: string; secret: string };
    await ctx.mongo.db.collection<{ _id: string; secret: string }>('docs').insertOne({ _id: id, secret });
    return { inserted: id, state: connectionsRecord(ctx)?.mongo?.state };
  });
}

async function call(main: ReturnType<typeof app>, id: string, secret = 'not-for-logs'): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
  const deadline = Date.now() + 20_000;
  const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
  const res = (await main(apiGatewayV2({ id, secret }), context)) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, raw: res.body };
}

function failureLog(): Record<string, unknown> | undefined {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
}

describe("a connection that fails under the function's own ctx.mongo call", () => {
  it('reset under an insert: 503 CONNECTION_LOST (retryable), logged by class only; the next invocation checks the client and succeeds', async () => {
    proxy = await startProxy(sharedPort());
    // A heartbeat between the reset and the insert would clear the pool first: none comes within the test.
    const main = app(mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/`, db, options: { heartbeatFrequencyMS: 60_000 } }));
    expect((await call(main, 'a')).status).toBe(200);
    // Every connection of the client now answers its next write with a reset, as after a server restart during a freeze.
    proxy.halfOpenAll();
    const lost = await call(main, 'b', 's3cret-value');
    expect(lost.status).toBe(503);
    expect(lost.body).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(String(lost.body.detail)).toMatch(/ran on the client directly/);
    const log = failureLog();
    expect(log).toMatchObject({ code: 'CONNECTION_LOST', retryable: true, cause: 'MongoNetworkError' });
    for (const text of [lost.raw, ...lines]) expect(text).not.toContain('s3cret-value');
    const next = await call(main, 'c');
    // After the reset the driver cleared its pool and its ping waits for the monitor's next checks (see the next test): the same client, revalidated.
    expect(next).toMatchObject({ status: 200, body: { inserted: 'c', state: 'revalidated' } });
    expect(await admin.db(db).collection<{ _id: string }>('docs').countDocuments({ _id: 'c' })).toBe(1);
  });

  it("a pool clear that took the monitor's connection too: the next check waits for the driver's monitor and revalidates the same client", async () => {
    proxy = await startProxy(sharedPort());
    // Every connection (the monitor's too) is half-open, as after a freeze: the insert's reset clears the pool and marks the
    // server Unknown; the ping then waits for the monitor, whose check on its own dead connection fails, and whose next one
    // comes minHeartbeatFrequencyMS later. 1 500 ms (the driver's 500 ms, slowed) outlasts pingTimeoutMs (1 000 ms) whatever
    // the machine's speed: before, the check timed out and a healthy client was rebuilt (a new TLS + auth handshake on Atlas).
    const handle = mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/`, db, options: { heartbeatFrequencyMS: 60_000, minHeartbeatFrequencyMS: 1_500 } });
    const main = app(handle);
    expect((await call(main, 'f')).status).toBe(200);
    const first = handle.peek()!.client;
    proxy.halfOpenAll();
    expect(await call(main, 'g')).toMatchObject({ status: 503, body: { code: 'CONNECTION_LOST' } });
    expect(await call(main, 'h')).toMatchObject({ status: 200, body: { inserted: 'h', state: 'revalidated' } });
    expect(handle.peek()!.client).toBe(first);
    expect(handle.stats).toMatchObject({ connects: 1, pings: 1, pingFailures: 0, reconnects: 0 });
  });

  it('server gone before the insert is sent (server selection fails): 503 CONNECTION_UNAVAILABLE, nothing stored', async () => {
    proxy = await startProxy(sharedPort());
    const port = proxy.port;
    const handle = mongo({ uri: `mongodb://127.0.0.1:${port}/`, db, options: { serverSelectionTimeoutMS: 1_500, heartbeatFrequencyMS: 500 } });
    const main = app(handle);
    expect((await call(main, 'd')).status).toBe(200);
    // The driver's monitor sees the server gone: the insert then waits for a server to select, and sends nothing.
    const unknown = new Promise<void>((resolve) =>
      handle.peek()!.client.on('serverDescriptionChanged', (event) => {
        if (event.newDescription.type === 'Unknown') resolve();
      }),
    );
    await proxy.close();
    proxy = undefined;
    await unknown;
    const gone = await call(main, 'e');
    expect(gone.status).toBe(503);
    expect(gone.body).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    expect(failureLog()).toMatchObject({ code: 'CONNECTION_UNAVAILABLE', retryable: true, cause: 'MongoServerSelectionError' });
    expect(await admin.db(db).collection<{ _id: string }>('docs').countDocuments({ _id: 'e' })).toBe(0);
  });
});
