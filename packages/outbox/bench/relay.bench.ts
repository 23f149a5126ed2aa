/**
 * The outbox relay against its peers, on the same SQS server (moto and fauxqs, each a process
 * of the bench's own), in the same run, at the same concurrency (4 calls in flight), for
 * payloads of 256 B, 8 KiB, 200 KiB and a mix up to 1 MiB:
 *
 * - `relay`: events recorded by the Redis capture, relayed by the sweeper's relay (a real
 *   `@steadyfn/lease` Redis lease per aggregate, byte-exact batches through `sqsSender`, marks in
 *   Redis after SQS accepted, in one script with the lease's release), its store work batched
 *   across the aggregates of a round.
 * - `naive relay`: the same events, the same lease store and the same store marks, one
 *   `SendMessage` per event of the same message (body and attributes; 4 workers). Goal: relay ≥ 8×.
 * - `raw batch loop`: `SendMessageBatch` of byte-packed batches of the same messages (envelope
 *   JSON bodies of the same events and the relay's five attributes: event id, type, aggregate,
 *   seq, attempt), no outbox at all. Goal ≥ 0.8×.
 * - `raw-minimal`: the same loop, messages of the same sizes with one attribute: the gap to
 *   `raw` is what the attributes cost the server and the SDK, not the outbox.
 * - `sqs-producer` 8: batches of 10 by count of the same messages, no store.
 *
 * Also: Redis calls per aggregate (the relay's store round trips), the batch fill ratio (entries, bytes), the flush's commit → accepted latency (p50/p99
 * over sequential invocations), and the recovery time after a kill before the flush, by the
 * sweeper (a schedule of `BENCH_SWEEP_PERIOD_MS`, default 5 s) and by the watchdog (1 s delay).
 * Throughput is events per second, median of interleaved rounds. Printed, never asserted.
 *
 * Event counts per server and mix (`COUNTS` in support.ts) give each cell about 1.5–2 s per
 * round on that server; the most SQS calls seen in flight are printed per contender.
 *
 *   npm run bench -- packages/outbox/bench/relay.bench.ts   (BENCH_ROUNDS, BENCH_SCALE; while iterating:
 *   BENCH_SERVERS=fauxqs, BENCH_MIXES='256 B,8 KiB', BENCH_EXTRAS=0 skips latency and recovery,
 *   BENCH_CONTENDERS=relay,raw runs only those)
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { afterAll, beforeAll, test } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { serializeEvent } from '../src/envelope.js';
import { outbox, outboxWatchdog, prepareEvent, redisOutbox, redisRelayStore, redisWrite, sqsSender } from '../src/index.js';
import { toMessage } from '../src/relay/message.js';
import { MetricsRecorder } from '../src/relay/metrics.js';
import type { RelayRunOptions } from '../src/relay/relay.js';
import { sweep } from '../src/relay/sweeper.js';
import type { RelayLease, RelayStore, Sender } from '../src/relay/types.js';
import { redisLeaseStore } from '@steadyfn/lease';
import { packBatches } from '../src/sqs/pack.js';
import { messageBytes } from '../src/sqs/size.js';
import type { OutboundMessage } from '../src/sqs/types.js';
import { createQueue, deleteQueue, receiveAll, sqsClient } from '../test/sqs-servers.js';
import { recordBench, spreadOf } from '../../../test/support/bench-results.js';
import { CONCURRENCY, countsOf, median, meteredClient, payloads, producerLoop, rawLoop, benchServers, mixesOfRun, MIXES, wireAttributes } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const PER_AGGREGATE = 10;
const events = { Bench: { aggregateType: 'bench', schema: z.object({ pad: z.string() }) } };
const RUN: RelayRunOptions = { leaseMs: 60_000, maxEventsPerAggregate: 50, poison: { maxAttempts: 1000, maxUnfinishedAttempts: 1000 }, reserveMs: 0, remainingMs: () => 600_000 };
const SWEEP = { graceMs: 0, maxAggregates: 100_000, chunk: 25, parallel: 4, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 };

const servers = benchServers();
let redis: Redis;
/** The same client, counting the calls the relay's stores make (scripts and commands). */
let counted: Redis;
const calls = { n: 0 };
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
  const tracked = new Set(['evalsha', 'eval', 'call', 'set']);
  counted = new Proxy(redis, { get: (t, k) => (typeof k === 'string' && tracked.has(k) ? (...a: unknown[]) => (calls.n++, (t[k as 'call'] as (...x: unknown[]) => unknown).apply(t, a)) : Reflect.get(t, k)) });
});
afterAll(() => {
  redis?.disconnect();
});

/** The event drafts of `sizes`: aggregates of PER_AGGREGATE events, each padded to about its size. */
const drafts = (sizes: number[]) => sizes.map((bytes, i) => ({ type: 'Bench' as const, aggregateId: `a${Math.floor(i / PER_AGGREGATE)}`, payload: { pad: 'p'.repeat(Math.max(0, bytes - 400)) } }));

/** The messages the relay would send for `sizes`, without an outbox: envelope JSON bodies and the relay's attributes. */
function eventMessages(sizes: number[]): OutboundMessage[] {
  return drafts(sizes).map((draft, i) => {
    const event = prepareEvent(events, draft, {});
    const seq = (i % PER_AGGREGATE) + 1;
    return toMessage({ ref: `0-${i}`, id: event.id, aggregate: `bench/${draft.aggregateId}`, aggregateId: draft.aggregateId, type: 'Bench', seq, body: serializeEvent(event, seq), committedAt: 0, started: 1, finished: 0, unjudged: 0 });
  });
}

/** Records one event per size (aggregates of PER_AGGREGATE events) under a fresh prefix. */
async function record(sizes: number[]): Promise<string> {
  const prefix = `obx-bench-${randomUUID().slice(0, 8)}:`;
  const limit = pLimit(16);
  const writes: Array<Promise<unknown>> = [];
  const all = drafts(sizes);
  for (let i = 0; i < sizes.length; i += PER_AGGREGATE) {
    const batch = all.slice(i, i + PER_AGGREGATE).map((draft) => prepareEvent(events, draft, {}));
    writes.push(limit(() => redisWrite(redis, prefix, { checks: [], commands: [], events: batch })));
  }
  await Promise.all(writes);
  return prefix;
}

async function dropPrefix(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** The naive relay: per event one SendMessage of the relay's message (body and attributes), then the same store mark; 4 workers over the aggregates. */
async function naiveRelay(store: RelayStore, lease: RelayLease, client: SQSClient, queueUrl: string): Promise<number> {
  const refs = await store.listPending({ limit: 100_000, before: Date.now() + 60_000 });
  let sent = 0;
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    refs.map((ref) =>
      limit(async () => {
        const owner = randomUUID();
        const key = store.leaseKey(ref);
        const claim = await lease.claim({ key, owner, leaseMs: 60_000 });
        if (!claim.claimed) return;
        const held = { key, owner, fence: claim.fence };
        const [head] = await store.begin([{ ref, lease: held }], { limit: 1000, maxBytes: 64 << 20 });
        for (const e of head!.events) {
          const m = toMessage(e);
          await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.body, MessageAttributes: wireAttributes(m.attributes) }));
          // Awaited first: `sent += await …` would read `sent` before the await and lose the other workers' counts.
          const [marked] = await store.settle([{ ref, sent: [e], refused: [], lease: held }]);
          sent += marked!;
        }
        await lease.settle(held);
      }),
    ),
  );
  return sent;
}

/** BENCH_PHASES: wall time the relay's workers spend in each store, lease and sender call (summed across workers). */
const phases: Record<string, { ms: number; n: number }> = {};
function timePhases(deps: { store: RelayStore; lease: RelayLease; sender: Sender }): void {
  const wrap = <T extends object>(target: T, names: string[]) => {
    for (const name of names) {
      const fn = (target as Record<string, unknown>)[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (typeof fn !== 'function') continue;
      (target as Record<string, unknown>)[name] = async (...a: unknown[]) => {
        const t0 = performance.now();
        try {
          return await fn.apply(target, a);
        } finally {
          const p = (phases[name] ??= { ms: 0, n: 0 });
          p.ms += performance.now() - t0;
          p.n++;
        }
      };
    }
  };
  for (const k of Object.keys(phases)) delete phases[k];
  wrap(deps.store, ['listPending', 'begin', 'settle']);
  wrap(deps.lease, ['claimMany', 'settleMany']);
  wrap(deps.sender, ['send']);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

/** The flush's commit → accepted latency, over sequential invocations of a function. */
async function flushLatency(client: SQSClient, queueUrl: string, n: number): Promise<{ p50: number; p99: number }> {
  const prefix = `obx-bench-${randomUUID().slice(0, 8)}:`;
  const real = sqsSender({ client, queueUrl });
  let committedAt = 0;
  const samples: number[] = [];
  const timed: Sender = { fifo: false, send: async (m, o) => { const r = await real.send(m, o); samples.push(performance.now() - committedAt); return r; } };
  // The commit is the script; the time is taken when it returns (wrapped client).
  const wrapped = new Proxy(redis, { get: (t, k) => (k === 'evalsha' ? async (...a: unknown[]) => { const r = await (t.evalsha as (...x: unknown[]) => Promise<unknown>)(...a); committedAt = performance.now(); return r; } : Reflect.get(t, k)) });
  const fn = handler({ use: [outbox({ events, store: redisOutbox({ client: wrapped as never, prefix }), relay: { sender: timed, lease: redisLeaseStore({ client: redis, prefix: `${prefix}lease:` }) } })], logSink: () => undefined }, async (_i, ctx) => {
    ctx.outbox.add({ type: 'Bench', aggregateId: `l${samples.length}`, payload: { pad: 'x' } });
  });
  for (let i = 0; i < n; i++) await fn.invoke({});
  await dropPrefix(prefix);
  return { p50: pct(samples, 50), p99: pct(samples, 99) };
}

/** Kill before the flush; how long until SQS has the event: by a sweeper on a schedule, and by the watchdog. */
async function recovery(client: SQSClient, queueUrl: string): Promise<{ sweeper: number[]; watchdog: number[] }> {
  const period = Number(process.env.BENCH_SWEEP_PERIOD_MS ?? 5000);
  const out = { sweeper: [] as number[], watchdog: [] as number[] };
  const relayQueue = await createQueue(client, 'bench-relay', { maxBytes: 262_144 });
  const sender = sqsSender({ client, queueUrl });
  for (let trial = 0; trial < 3; trial++) {
    const prefix = `obx-bench-${randomUUID().slice(0, 8)}:`;
    const dead: Sender = { fifo: false, send: async () => Promise.reject(new Error('killed')) };
    const make = (s: Sender, armed: boolean) =>
      outbox({ name: 'bench', events, store: redisOutbox({ client: redis, prefix }), relay: { sender: s, lease: redisLeaseStore({ client: redis, prefix: `${prefix}lease:` }), sweep: { graceMs: 0 } }, ...(armed ? { watchdog: outboxWatchdog({ client, queueUrl: relayQueue, delayMs: 1000 }) } : {}) });
    const body = async (_i: unknown, ctx: { outbox: { add(d: { type: 'Bench'; aggregateId: string; payload: { pad: string } }): unknown } }) => void ctx.outbox.add({ type: 'Bench', aggregateId: 'r', payload: { pad: 'x' } });
    const unarmed = handler({ use: [make(dead, false)], logSink: () => undefined }, body);
    const armed = handler({ use: [make(dead, true)], logSink: () => undefined }, body);
    const live = make(sender, true);
    const ctx = { signal: new AbortController().signal, remainingMs: () => 60_000, log: { warn: () => undefined, info: () => undefined } as never };
    // Sweeper: ticks every `period`; the kill lands at a random phase of it.
    const phase = Math.random() * period;
    await new Promise((r) => setTimeout(r, phase));
    const t0 = performance.now();
    await unarmed.invoke({});
    await new Promise((r) => setTimeout(r, period - phase));
    await live.sweep(ctx);
    out.sweeper.push(performance.now() - t0);
    // Watchdog: the relay queue's consumer long-polls and relays what the message names.
    const t1 = performance.now();
    await armed.invoke({});
    for (;;) {
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: relayQueue, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      const hit = (await Promise.all(Messages.map((m) => live.relayWatchdog(ctx, m.Body)))).some((m) => (m?.sent ?? 0) > 0);
      if (hit) break;
    }
    out.watchdog.push(performance.now() - t1);
    await dropPrefix(prefix);
  }
  await receiveAll(client, queueUrl, 100, 500);
  await deleteQueue(client, relayQueue);
  return out;
}

test('relay vs naive relay vs raw batch loop vs sqs-producer; fill, flush latency, recovery', async () => {
  const own = servers();
  if (!own) return;
  const rows: string[] = [];
  const vs: Record<'naive' | 'raw' | 'raw-minimal' | 'sqs-producer', number[]> = { naive: [], raw: [], 'raw-minimal': [], 'sqs-producer': [] };
  for (const server of own) {
    const client = sqsClient(server.endpoint, 3);
    for (const mix of mixesOfRun()) {
      const cell = countsOf(server.name, mix, SCALE, PER_AGGREGATE);
      const sizes = payloads(mix, cell.events);
      const naiveSizes = payloads(mix, cell.naive);
      const inFlight: Record<string, number> = {};
      const meanInFlight: Record<string, number[]> = {};
      /** CPU of the bench process (client side: SDK, relay, sender, store calls), µs per event delivered. */
      const cpuPerEvent: Record<string, number[]> = {};
      const rate: Record<string, number[]> = { relay: [], naive: [], raw: [], 'raw-minimal': [], 'sqs-producer': [] };
      const delivered: Record<string, number> = {};
      const storeCalls: number[] = [];
      let fill = { entries: 0, bytes: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? ['relay', 'naive', 'raw', 'raw-minimal', 'sqs-producer'] : ['sqs-producer', 'raw-minimal', 'raw', 'naive', 'relay'];
        for (const name of order.filter((n) => !process.env.BENCH_CONTENDERS || process.env.BENCH_CONTENDERS.split(',').includes(n))) {
          const queueUrl = await createQueue(client, 'bench', { maxBytes: 1_048_576 });
          const meter = meteredClient(client);
          let count = 0;
          let ms = 0;
          let cpu = { user: 0, system: 0 };
          if (name === 'relay' || name === 'naive') {
            const prefix = await record(name === 'relay' ? sizes : naiveSizes);
            calls.n = 0;
            const lease = redisLeaseStore({ client: counted, prefix: `${prefix}lease:` });
            // The relay marks and releases in one script; the naive relay marks each event alone, then releases.
            const store = name === 'relay' ? redisRelayStore({ client: counted, prefix }).withLease!(lease) : redisRelayStore({ client: counted, prefix });
            const start = performance.now();
            const cpu0 = process.cpuUsage();
            if (name === 'relay') {
              const metrics = new MetricsRecorder();
              const deps = { store, lease, sender: sqsSender({ client: meter.client, queueUrl, concurrency: CONCURRENCY }), metrics };
              if (process.env.BENCH_PHASES) timePhases(deps);
              await sweep(deps, RUN, SWEEP);
              if (process.env.BENCH_PHASES) console.log(`[bench] phases (summed over workers, ms): ${Object.entries(phases).map(([k, v]) => `${k} ${v.ms.toFixed(0)} (${v.n} calls)`).join(', ')}; elapsed ${(performance.now() - start).toFixed(0)}`);
              const m = metrics.snapshot();
              count = m.sent;
              fill = { entries: m.fillEntries, bytes: m.fillBytes };
              storeCalls.push(calls.n / Math.ceil(sizes.length / PER_AGGREGATE));
            } else count = await naiveRelay(store, lease, meter.client, queueUrl);
            ms = performance.now() - start;
            cpu = process.cpuUsage(cpu0);
            await dropPrefix(prefix);
          } else {
            // `raw` and sqs-producer send the relay's messages (the envelope JSON and its five
            // attributes); `raw-minimal` messages of the same byte sizes with one attribute.
            const msgs: OutboundMessage[] = eventMessages(sizes).map((m, i) =>
              name === 'raw-minimal' ? { id: m.id, body: 'b'.repeat(Math.max(1, messageBytes(m.body, m.attributes) - messageBytes('', { seq: String(i) }))), attributes: { seq: String(i) } } : m,
            );
            const cpu0 = process.cpuUsage();
            const out =
              name !== 'sqs-producer'
                ? await rawLoop(meter.client, queueUrl, packBatches(msgs.map((m) => ({ bytes: messageBytes(m.body, m.attributes) })), { maxEntries: 10, maxBytes: 1_048_576 }).map((b) => b.map((i) => msgs[i]!)))
                : await producerLoop(meter.client, queueUrl, msgs);
            cpu = process.cpuUsage(cpu0);
            count = out.delivered;
            ms = out.ms;
          }
          (cpuPerEvent[name] ??= []).push((cpu.user + cpu.system) / Math.max(1, count));
          await deleteQueue(client, queueUrl);
          rate[name]!.push((count / ms) * 1000);
          delivered[name] = count;
          inFlight[name] = Math.max(inFlight[name] ?? 0, meter.maxInFlight());
          (meanInFlight[name] ??= []).push(meter.meanInFlight());
        }
      }
      const r = Object.fromEntries(Object.entries(rate).map(([k, v]) => [k, v.length > 0 ? median(v) : 0]));
      const ratio = (other: string) => (r[other]! > 0 ? `${(r.relay! / r[other]!).toFixed(2)}×` : 'n/a (delivers 0)');
      for (const other of ['naive', 'raw', 'raw-minimal', 'sqs-producer'] as const) if (r[other]! > 0) vs[other].push(r.relay! / r[other]!);
      rows.push(
        `[bench] ${server.name.padEnd(6)} ${mix.padEnd(12)} ${String(sizes.length).padStart(5)} events | events/s relay ${r.relay!.toFixed(0).padStart(6)} naive ${r.naive!.toFixed(0).padStart(5)} raw ${r.raw!.toFixed(0).padStart(6)} raw-minimal ${r['raw-minimal']!.toFixed(0).padStart(6)} sqs-producer ${r['sqs-producer']!.toFixed(0).padStart(6)} [${delivered['sqs-producer']}/${sizes.length}] | relay vs naive ${ratio('naive')} (goal ≥ 8×), vs raw ${ratio('raw')} (goal ≥ 0.8×), vs raw-minimal ${ratio('raw-minimal')}, vs sqs-producer ${ratio('sqs-producer')} | fill entries ${fill.entries.toFixed(2)} bytes ${fill.bytes.toFixed(2)} | Redis calls per aggregate ${median(storeCalls).toFixed(2)} [${delivered.relay}/${sizes.length}] | naive ${cell.naive} events [${delivered.naive}/${cell.naive}] | SQS calls in flight, most (mean): ${Object.keys(inFlight).map((n) => `${n} ${inFlight[n]} (${median(meanInFlight[n]!).toFixed(2)})`).join(', ')} | client CPU µs/event: ${Object.keys(cpuPerEvent).map((n) => `${n} ${median(cpuPerEvent[n]!).toFixed(0)}`).join(', ')}`,
      );
      console.log(rows.at(-1));
    }
    if (process.env.BENCH_EXTRAS === '0') {
      client.destroy();
      continue;
    }
    const latency = await flushLatency(client, (await createQueue(client, 'bench-lat', { maxBytes: 262_144 })), 100);
    rows.push(`[bench] ${server.name.padEnd(6)} flush commit → accepted: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms (100 sequential invocations)`);
    console.log(rows.at(-1));
    const rec = await recovery(client, await createQueue(client, 'bench-rec', { maxBytes: 262_144 }));
    rows.push(`[bench] ${server.name.padEnd(6)} recovery after a kill before the flush: sweeper (every ${process.env.BENCH_SWEEP_PERIOD_MS ?? 5000} ms) median ${median(rec.sweeper).toFixed(0)} ms; watchdog (1 s delay) median ${median(rec.watchdog).toFixed(0)} ms`);
    console.log(rows.at(-1));
    client.destroy();
  }
  const cases = `${own.map((s) => s.name).join(' and ')} × ${MIXES.length} payload mixes (256 B … 1 MiB), ${CONCURRENCY} calls in flight, median of ${ROUNDS} interleaved rounds`;
  const against = {
    naive: 'a naive relay (one SendMessage per event, same store and marks)',
    raw: 'a raw SendMessageBatch loop of byte-packed batches of the same messages (bodies and the five attributes), no outbox',
    'raw-minimal': 'a raw SendMessageBatch loop of byte-packed batches of messages with one attribute (what the five cost on the server)',
    'sqs-producer': 'sqs-producer (batches of 10, no store)',
  } as const;
  recordBench(
    ...(['naive', 'raw', 'raw-minimal', 'sqs-producer'] as const).map((other) => {
      const s = spreadOf(vs[other]);
      return { key: `outbox.relay.${other}`, value: s.min, unit: '×' as const, detail: `events/s, the relay (Redis outbox, leases, marks after SQS accepted) vs ${against[other]}: lowest of ${vs[other].length} cases (median ${s.median.toFixed(2)}×), ${cases}` };
    }),
  );
  console.log(`\n[bench] events per second, median of ${ROUNDS} interleaved rounds, ${CONCURRENCY} calls in flight; [delivered/total]`);
  for (const row of rows) console.log(row);
}, 1_800_000);
