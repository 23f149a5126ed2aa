/**
 * One invocation closes `ctx.mongo.client`; a concurrent invocation of the same instance uses the
 * driver directly (`ctx.mongo.db.collection(…).insertOne(…)`, not through `handle.run`), on the
 * shared FerretDB through the real handler and an API Gateway HTTP event. The driver rejects that
 * insert with a raw `MongoExpiredSessionError` ("Cannot use a session that has ended": `close()`
 * ended its implicit session before it was written) or `MongoNotConnectedError` (the client was
 * closed before it started) — before, a 500 with no code of ours. Here the invocation answers
 * 503 `CONNECTION_UNAVAILABLE` (retryable: nothing was sent) saying the function closed the
 * client, without the driver's message, a stack or the document; the document is not stored; and
 * the next invocation succeeds on a rebuilt client. An insert already written when `close()` comes
 * (`MongoClientClosedError`: close() ends the operations of checked-out connections) answers 503
 * `CONNECTION_LOST` instead: it may have been applied. The same driver error from a client that is
 * not the handle's stays the function's own (500 INTERNAL): the plugin claims only what it can
 * attribute to a client it handed out.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy } from './support/proxy.js';

const db = `closed_direct_${randomUUID().slice(0, 8)}`;
const admin = useMongoAdmin({ drop: [db] });
const lines: string[] = [];

afterEach(async () => {
  await closeAll();
  lines.length = 0;
});

type Step = { action: 'insert'; id: string; secret: string } | { action: 'close'; awaited: boolean } | { action: 'count'; id: string };

/**
 * The function: `insert` waits for `gate` (so the test decides what happens first), then inserts
 * straight through the driver; `close` closes the client (awaited or not); `count` reads.
 */
function app(handle: ReturnType<typeof mongo>, gate: { before: Promise<void>; started: () => void }) {
  return handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, async (input: unknown, ctx) => {
    const step = input as Step;
    const docs = ctx.mongo.db.collection<{ _id: string; secret?: string }>('docs');
    if (step.action === 'close') {
      const closing = ctx.mongo.client.close();
      if (step.awaited) await closing;
      return { closed: true };
    }
    if (step.action === 'count') return { n: await docs.countDocuments({ _id: step.id }), state: connectionsRecord(ctx)?.mongo?.state };
    await gate.before;
    const inserting = docs.insertOne({ _id: step.id, secret: step.secret });
    gate.started();
    await inserting;
    return { inserted: step.id };
  });
}

async function call(main: ReturnType<typeof app>, step: Step): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
  const deadline = Date.now() + 20_000;
  const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
  const res = (await main(apiGatewayV2(step), context)) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, raw: res.body };
}

/** What an answer and the log lines must never hold: the document, a stack frame, the driver's own wording. */
function expectNothingLeaked(raw: string, secret: string): void {
  for (const text of [raw, ...lines]) {
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\n\s+at |\.(?:js|ts):\d+/);
    expect(text).not.toMatch(/Cannot use a session|must be connected|Topology is closed/);
  }
}

describe('a concurrent invocation closes the MongoClient; this one inserts straight through the driver', () => {
  it('closed (not awaited) while the insert is on its way: 503 CONNECTION_UNAVAILABLE, closed by the function, not stored; the next invocation succeeds', async () => {
    const handle = mongo({ uri: process.env.MONGODB_URI, db });
    let open!: () => void;
    let started!: () => void;
    const gate = { before: new Promise<void>((r) => (open = r)), started: () => started() };
    const main = app(handle, gate);
    const warm = randomUUID();
    expect((await call(main, { action: 'count', id: warm })).status).toBe(200);
    const id = randomUUID();
    const secret = `secret-${randomUUID()}`;
    const insertStarted = new Promise<void>((r) => (started = r));
    const inserting = call(main, { action: 'insert', id, secret });
    open();
    await insertStarted;
    // In the same turn as the insert's start: close() ends the insert's implicit session before it is written.
    const closing = call(main, { action: 'close', awaited: false });
    const answer = await inserting;
    expect((await closing).status).toBe(200);
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    expect(String(answer.body.detail)).toMatch(/closed by the function/);
    expect(await admin.db(db).collection('docs').countDocuments({ _id: id as never })).toBe(0);
    expectNothingLeaked(answer.raw, secret);
    const next = await call(main, { action: 'count', id });
    expect(next).toMatchObject({ status: 200, body: { n: 0, state: 'reconnected' } });
  });

  it('closed (awaited) before the insert starts: 503 CONNECTION_UNAVAILABLE, not stored; the same insert in the next invocation is stored once', async () => {
    const handle = mongo({ uri: process.env.MONGODB_URI, db });
    let open!: () => void;
    const gate = { before: new Promise<void>((r) => (open = r)), started: () => undefined };
    const main = app(handle, gate);
    expect((await call(main, { action: 'count', id: randomUUID() })).status).toBe(200);
    const id = randomUUID();
    const secret = `secret-${randomUUID()}`;
    // The insert's invocation has its ctx.mongo (the client about to be closed) and waits at the gate.
    const inserting = call(main, { action: 'insert', id, secret });
    expect((await call(main, { action: 'close', awaited: true })).status).toBe(200);
    open();
    const answer = await inserting;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    expect(String(answer.body.detail)).toMatch(/closed by the function/);
    expect(await admin.db(db).collection('docs').countDocuments({ _id: id as never })).toBe(0);
    expectNothingLeaked(answer.raw, secret);
    // The provider's retry of that invocation: applied once, on a rebuilt client.
    expect(await call(main, { action: 'insert', id, secret })).toMatchObject({ status: 200, body: { inserted: id } });
    expect(await admin.db(db).collection('docs').countDocuments({ _id: id as never })).toBe(1);
  });

  it('closed while the insert is written and awaiting its reply (a fault proxy holds the reply back): 503 CONNECTION_LOST, "may have been applied"; the next invocation succeeds', async () => {
    const proxy = await startProxy(Number(new URL(process.env.MONGODB_URI!).port));
    try {
      // Command monitoring: the driver emits commandStarted just before it writes the command.
      const handle = mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/`, db, options: { monitorCommands: true } });
      const gate = { before: Promise.resolve(), started: () => undefined };
      const main = app(handle, gate);
      expect((await call(main, { action: 'count', id: randomUUID() })).status).toBe(200);
      const client = handle.peek()!.client;
      const written = new Promise<void>((resolve) => client.on('commandStarted', (event) => event.commandName === 'insert' && resolve()));
      proxy.blackholeAll(); // the connections stay open; nothing passes either way
      const id = randomUUID();
      const secret = `secret-${randomUUID()}`;
      const inserting = call(main, { action: 'insert', id, secret });
      await written;
      // commandStarted comes before the write; the write and the start of the read are microtasks
      // (no I/O: the bytes go into the socket's buffer), so one macrotask later the insert awaits
      // its reply. A close() before that leaves the operation hanging (driver: its read has not
      // begun, so nothing rejects it; the deadline would answer 504), which this test is not about.
      await new Promise((resolve) => setImmediate(resolve));
      expect((await call(main, { action: 'close', awaited: false })).status).toBe(200);
      const answer = await inserting;
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: 'CONNECTION_LOST' });
      expect(String(answer.body.detail)).toMatch(/closed by the function .* may have been applied/);
      expectNothingLeaked(answer.raw, secret);
      expect(await call(main, { action: 'count', id })).toMatchObject({ status: 200, body: { state: 'reconnected' } });
    } finally {
      await proxy.close();
    }
  });

  it("a closed-client error from a MongoClient that is not the handle's (the function's own, closed by it) stays the function's error: 500 INTERNAL", async () => {
    const handle = mongo({ uri: process.env.MONGODB_URI, db });
    const own = new MongoClient(process.env.MONGODB_URI ?? '');
    await own.connect();
    await own.close();
    const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: (line) => lines.push(line) }, async (_input: unknown, ctx) => {
      await ctx.mongo.db.collection('docs').countDocuments({});
      return own.db(db).collection('docs').insertOne({ _id: randomUUID() as never });
    });
    const deadline = Date.now() + 20_000;
    const res = (await main(apiGatewayV2({}), { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() })) as { statusCode: number; body: string };
    // Nothing says ctx.mongo's client was closed (it was not): no claim that the function closed it.
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'INTERNAL' });
    expect(lines.some((line) => line.includes('"cause":"MongoNotConnectedError"'))).toBe(true);
  });
});
