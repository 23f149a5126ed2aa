/**
 * A `mongo()` handle given a host name (`localhost`, as Atlas and `mongodb+srv` URIs give names)
 * and a connection that fails under the function's own `ctx.audit` call, through the real handler.
 * The driver's "connection N to X timed out / closed" names X by the IP its socket reached
 * (`127.0.0.1:port`), which matched none of the client's servers (`localhost:port`): the error was
 * left the handler's 500 INTERNAL and the client was not checked before its next use. Now such an
 * address, when the client's servers are host names, may be the client's: 503 CONNECTION_LOST and
 * a ping before the next call.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const db = `host_reset_${randomUUID().slice(0, 8)}`;
const admin = useMongoAdmin({ drop: [db] });
let proxy: FaultProxy | undefined;

afterEach(async () => {
  await closeAll();
  await proxy?.close().catch(() => undefined);
});

const sharedPort = (): number => Number(new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117/').port);

describe('a mongo() handle on a host name and a connection failing under ctx.audit', () => {
  it('the driver names the socket\'s IP, not localhost: 503 CONNECTION_LOST, and the client is pinged next', async () => {
    proxy = await startProxy(sharedPort());
    const audit = mongo({ name: 'audit', uri: `mongodb://localhost:${proxy.port}/`, db, options: { heartbeatFrequencyMS: 60_000, socketTimeoutMS: 1_500 } });
    const main = handler({ use: [connections({ audit }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { id } = input as { id: string };
      await ctx.audit.db.collection<{ _id: string }>('audit').insertOne({ _id: id });
      return { inserted: id, audit: connectionsRecord(ctx)?.audit?.state };
    });
    const call = async (id: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const deadline = Date.now() + 20_000;
      const context = { awsRequestId: randomUUID(), functionName: 'audit', getRemainingTimeInMillis: () => deadline - Date.now() };
      const res = (await main(apiGatewayV2({ id }), context)) as { statusCode: number; body: string };
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
    };
    expect((await call('h1')).status).toBe(200);
    // The pooled connection stops answering: the driver gives up on it ("connection N to 127.0.0.1:P timed out").
    proxy.blackholeAll();
    const lost = await call('h2');
    expect(lost).toMatchObject({ status: 503, body: { code: 'CONNECTION_LOST' } });
    expect(String(lost.body.detail)).toMatch(/\baudit\b/);
    expect(await call('h3')).toMatchObject({ status: 200, body: { audit: 'revalidated' } });
    expect(await admin.db(db).collection<{ _id: string }>('audit').countDocuments({ _id: { $in: ['h1', 'h3'] } })).toBe(2);
  });
});
