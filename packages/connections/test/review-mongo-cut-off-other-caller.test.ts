/**
 * `mongo()` tells "in flight" per client, not per caller: at a cut-off, another caller's operation
 * still checked out makes the client suspect too. Checked here that this costs what the README
 * says and no more: the check is one ping, sent on another pooled connection (the pending
 * operation keeps its own checked out), so it neither waits for that operation nor rebuilds the
 * client (whose close would fail the pending operation under its caller). The shared FerretDB behind a
 * fault proxy; the other caller's operation is held by silencing its connection.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterEach, expect, it } from 'vitest';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const db = `cut_off_other_${randomUUID().slice(0, 8)}`;
useMongoAdmin({ drop: [db] });
let proxy: FaultProxy | undefined;

afterEach(async () => {
  await closeAll();
  await proxy?.close();
});

it("an invocation cut off while another caller's operation is pending: one ping on another pooled connection, no rebuild", async () => {
  proxy = await startProxy(Number(new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117/').port));
  const handle = mongo({ name: `other-${randomUUID()}`, uri: `mongodb://127.0.0.1:${proxy.port}/`, db, idleThresholdMs: 600_000, pingTimeoutMs: 2_000, options: { heartbeatFrequencyMS: 60_000 } });
  const main = handler({ use: [connections({ store: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, async (input: unknown, ctx) => {
    if (input === 'hang') return new Promise(() => undefined); // hangs on something that is not the client
    return ctx.store.db.collection('c').countDocuments();
  });
  const call = (input: string, deadlineMs: number) => main.invoke(input, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
  expect(await call('use', 10_000)).toBe(0);
  // Another caller's operation, pending on the one pooled connection (silenced: it stays checked out).
  const other = await handle.get({ signal: AbortSignal.timeout(60_000) });
  proxy.blackholeAll();
  const pending = other.db.collection('c').findOne({}).then(() => 'answered', (err: unknown) => (err as Error).name);
  expect(await call('hang', 500)).toBe('DEADLINE_EXCEEDED');
  expect(await call('use', 10_000)).toBe(0);
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 0, reconnects: 0, connects: 1 });
  // The same client: the pending operation was not closed under its caller.
  expect(handle.peek()).toBe(other);
  await handle.close();
  expect(await pending).not.toBe('answered');
}, 30_000);
