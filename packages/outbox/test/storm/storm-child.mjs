// One process of the multi-process relay storm (review-storm-processes.test.ts), on the TypeScript
// sources and the public API: `outbox()` with a real lease store and `sqsSender`, a handler that
// commits and flushes, `orders.sweep(ctx)` from a loop. Every SendMessageBatch is logged to a
// shared Redis list (STORM_LOG on REDIS_URL) *before* the call (`B`: its entries) and *after* SQS
// answered (`A`: the ids it accepted), awaited, so the list's order is a sound witness of
// "k accepted before k+1 was sent".
//
// STORM_ROLE:
// Every relaying process's SQS client also fails 5 % of its calls as a whole (throttling) and refuses
// 15 % of the entries one by one (retryable), before they reach the server; the sender does not
// retry them itself, so the relay sees the refusals.
//
//   writer   invocations, each on a random aggregate of STORM_AGGS, adding 1-3 events with its state
//            change; flush on: at least STORM_WRITES, then on until a line arrives on stdin (at most
//            4 × STORM_WRITES). Says { committed: { [agg]: events } } at the end.
//   sweeper  sweeps until a line arrives on stdin.
//   killer   a sweeper (role sweeper).
// With STORM_KILL_AFTER, any role SIGKILLs itself after SQS accepted its STORM_KILL_AFTER-th batch
// (after the `A` log line, before the relay's mark): a writer then dies inside its flush.
//   staller  a sweeper whose first accepted batch is held back from the relay until another process
//            got the same events accepted and they left the store (its lease ran out and was taken
//            over); then its late marks run. Says { stalled: { fenced, ids } }.
//
// Env: STORM_BACKEND redis | cluster | ferretdb, STORM_STORE_URL (redis), STORM_PREFIX, STORM_DB,
// STORM_QUEUE_URL, STORM_SQS_ENDPOINT, STORM_LOG.
import '../../../../test/support/register-ts.mjs';

const { SQSClient } = await import('@aws-sdk/client-sqs');
const { Redis, Cluster } = await import('ioredis');
const { MongoClient } = await import('mongodb');
const { z } = await import('zod');
const { handler } = await import('@steadyfn/handler');
const { redisLeaseStore, mongoLeaseStore } = await import('@steadyfn/lease');
const { outbox, redisOutbox, mongoEmbeddedOutbox } = await import('../../src/index.ts');
const { sqsSender } = await import('../../src/sqs.ts');
const { clusterNodes } = await import('../../../../test/support/redis.js');

const env = process.env;
const role = env.STORM_ROLE;
const say = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const prefix = env.STORM_PREFIX;
const aggs = Number(env.STORM_AGGS ?? 4);

const logClient = new Redis(env.REDIS_URL);
const logKey = env.STORM_LOG;
const log = (entry) => logClient.rpush(logKey, JSON.stringify({ ...entry, pid: process.pid }));

let accepted = 0;
let calls = 0;
let stalled;
/** An SQSClient (so sqsSender takes it) that logs each SendMessageBatch before and after. */
class LoggingSQS extends SQSClient {
  async send(command, options) {
    if (command.constructor.name !== 'SendMessageBatchCommand') return super.send(command, options);
    const byId = new Map(command.input.Entries.map((e) => [e.Id, JSON.parse(e.MessageBody)]));
    const call = `${process.pid}-${++calls}`;
    await log({ k: 'B', call, e: [...byId.values()].map((b) => [b.id, b.aggregateId, b.seq]) });
    // Faults SQS itself gives: a whole call that fails (throttled), and entries it refuses one by one (retryable).
    if (Math.random() < 0.05) throw Object.assign(new Error('injected throttling'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const refused = command.input.Entries.filter(() => Math.random() < 0.15);
    const kept = command.input.Entries.filter((e) => !refused.includes(e));
    const answer = kept.length === 0 ? { Successful: [], Failed: [] } : await super.send(new command.constructor({ ...command.input, Entries: kept }), options);
    answer.Failed = [...(answer.Failed ?? []), ...refused.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false, Message: 'injected' }))];
    const ok = (answer.Successful ?? []).map((s) => byId.get(s.Id));
    await log({ k: 'A', call, ids: ok.map((b) => b.id) });
    if (ok.length > 0) {
      accepted++;
      if (env.STORM_KILL_AFTER && accepted >= Number(env.STORM_KILL_AFTER)) {
        say({ killing: ok.map((b) => b.id) });
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => undefined);
      }
      if (role === 'staller' && !stalled) {
        stalled = { ids: ok.map((b) => b.id) };
        await takenOver(ok);
      }
    }
    return answer;
  }
}

const sqs = new LoggingSQS({ endpoint: env.STORM_SQS_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number().int() }) } };

let store;
let lease;
let pendingIds;
let stateWrite;
let close;
if (env.STORM_BACKEND === 'ferretdb') {
  const mongo = await new MongoClient(env.MONGODB_URI, { maxPoolSize: 20 }).connect();
  const db = mongo.db(env.STORM_DB);
  lease = mongoLeaseStore({ collection: db.collection('leases') });
  store = mongoEmbeddedOutbox({ db, collection: 'ticks', aggregateType: 'tick', writeLease: lease, writeWaitMs: Number(env.STORM_WRITE_WAIT_MS ?? 5_000) });
  pendingIds = async (agg) => ((await db.collection('ticks').findOne({ _id: agg }))?._outbox ?? []).map((e) => e.id ?? e.i);
  stateWrite = async (ctx, agg) => {
    const r = await ctx.outbox.updateOne({ _id: agg }, { $inc: { n: 1 } }, { upsert: true });
    if (!r.matched) throw new Error('not matched');
  };
  close = () => mongo.close();
} else {
  const options = { maxRetriesPerRequest: 1, retryStrategy: () => 100 };
  const client = env.STORM_BACKEND === 'cluster' ? new Cluster(clusterNodes(), { redisOptions: options }) : new Redis(env.STORM_STORE_URL, options);
  client.on('error', () => undefined);
  lease = redisLeaseStore({ client, prefix: `${prefix}lease:` });
  store = redisOutbox({ client, prefix });
  pendingIds = async (agg) => (await client.xrange(`${prefix}{${agg}}:events`, '-', '+')).map(([, fields]) => fields[fields.indexOf('i') + 1]);
  stateWrite = async (ctx, agg) => void ctx.outbox.call('HINCRBY', `${prefix}state:{${agg}}`, 'n', 1);
  close = async () => client.disconnect();
}

/** The staller waits until another process got `ok` accepted and the events left the store. */
async function takenOver(ok) {
  const ids = new Set(ok.map((b) => b.id));
  // Bounded by the clock, not a count of polls (each reads the whole log: slower as it grows).
  for (const giveUpAt = Date.now() + 150_000; Date.now() < giveUpAt; ) {
    await sleep(100);
    const entries = (await logClient.lrange(logKey, 0, -1)).map((l) => JSON.parse(l));
    const again = entries.some((e) => e.k === 'A' && e.pid !== process.pid && e.ids.some((id) => ids.has(id)));
    if (!again) continue;
    let gone = true;
    for (const agg of new Set(ok.map((b) => b.aggregateId))) if ((await pendingIds(agg)).some((id) => ids.has(id))) gone = false;
    if (gone) return;
  }
  say({ error: 'staller: never taken over' });
}

const lines = [];
const logger = {
  debug: () => undefined,
  info: (msg) => lines.push(msg),
  warn: (msg) => lines.push(msg),
  error: (msg) => lines.push(msg),
};
const orders = outbox({
  name: 'storm',
  events,
  store,
  relay: { sender: sqsSender({ client: sqs, queueUrl: env.STORM_QUEUE_URL, retry: { retries: 0 } }), lease, leaseMs: Number(env.STORM_LEASE_MS ?? 3_000), maxEventsPerAggregate: 5, sweep: { graceMs: 0, chunk: 1, parallel: 2 } },
});

say({ started: true });
if (role === 'writer') {
  const main = handler({ logSink: () => undefined, input: z.object({ agg: z.string(), n: z.number().int() }), use: [orders] }, async ({ agg, n }, ctx) => {
    for (let i = 0; i < n; i++) ctx.outbox.add({ type: 'Tick', aggregateId: agg, payload: { n: i } });
    await stateWrite(ctx, agg);
  });
  const committed = {};
  let failures = 0;
  let stop = false;
  process.stdin.once('data', () => (stop = true));
  // A writer that is to die in a flush writes until it does (or is stopped); the others at most 4 × STORM_WRITES.
  const cap = env.STORM_KILL_AFTER ? Infinity : Number(env.STORM_WRITES) * 4;
  for (let w = 0; w < cap && (w < Number(env.STORM_WRITES) || !stop); w++) {
    if (w % 25 === 0) say({ progress: w, accepted, failures });
    const agg = `a-${Math.floor(Math.random() * aggs)}`;
    const n = 1 + Math.floor(Math.random() * 3);
    for (let attempt = 0; ; attempt++) {
      try {
        await main.invoke({ agg, n });
        committed[agg] = (committed[agg] ?? 0) + n;
        break;
      } catch {
        failures++;
        if (attempt > 50) throw new Error('writer: 50 failed attempts');
        await sleep(50);
      }
    }
  }
  say({ committed, failures });
} else {
  let stop = false;
  process.stdin.once('data', () => (stop = true));
  let sent = 0;
  const ctx = () => ({ signal: new AbortController().signal, remainingMs: () => 60_000, log: logger });
  while (!stop) {
    try {
      sent += (await orders.sweep(ctx())).metrics.sent;
    } catch {
      // a store outage: the sweeper's own failure; the next one goes on
    }
    if (stalled && stalled.fenced === undefined) {
      stalled.fenced = lines.filter((l) => /lease lost before its marks/.test(l)).length;
      say({ stalled });
    }
    await sleep(20);
  }
  say({ finished: true, sent });
}
await close();
logClient.disconnect();
process.exit(0);
