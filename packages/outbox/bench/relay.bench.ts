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
 * Two views, both printed, neither asserted:
 *
 * 1. Loopback (all five contenders): the SQS servers here spend CPU per message on the same 2
 *    cores as the client, so each call is server-bound and the ratios show the servers' ceiling
 *    (raw ÷ naive itself is ~2× on moto), not what batching buys against SQS.
 * 2. Distance (relay, naive, raw): the same server process behind a TCP proxy that holds every
 *    chunk `BENCH_SQS_DELAY_MS` each way (default 3 ms; Node's timers count whole milliseconds,
 *    so 2.5 would be 2), as an SQS endpoint in the same region is a few ms away per call. The
 *    proxy is state's `startProxy`, run in a process of its own (delay-proxy-child.ts) so the
 *    client's CPU does not also hold its requests on the "network". The round trip it adds is
 *    measured (sequential calls through it vs direct; about +6.5 ms) and printed.
 *    Redis stays on loopback: a store in the same VPC is well under a millisecond away, which
 *    the proxy's 1 ms timer steps cannot model, and keeping it close favours the naive relay
 *    (a store round trip per event) over the relay (a few per round of 25 aggregates), so
 *    the relay's ratio is not flattered by it. `BENCH_SQS_DELAY_MS=0` skips this view.
 *
 * Also (loopback): Redis calls per aggregate (the relay's store round trips), the batch fill
 * ratio (entries, bytes), SQS calls per 100 events by command, message characters per event
 * sent, the flush's commit → accepted latency (p50/p99 over sequential invocations), and the
 * recovery time after a kill before the flush, by the sweeper (a schedule of
 * `BENCH_SWEEP_PERIOD_MS`, default 5 s) and by the watchdog (1 s delay). Throughput is events
 * per second, median of interleaved rounds.
 *
 * Event counts per server and mix (`COUNTS` and `DISTANCE_COUNTS` in support.ts) give each cell
 * about 1.5–2 s per round on that server; the whole bench runs about 6 minutes here with the
 * default 3 rounds (11 with 5), on the shared 2-core machine.
 *
 *   npm run bench -- packages/outbox/bench/relay.bench.ts   (BENCH_ROUNDS, BENCH_SCALE; while iterating:
 *   BENCH_SERVERS=fauxqs, BENCH_MIXES='256 B,8 KiB', BENCH_EXTRAS=0 skips latency and recovery,
 *   BENCH_CONTENDERS=relay,raw runs only those, BENCH_VIEWS=distance (or loopback) runs one view,
 *   BENCH_SQS_DELAY_MS=5 a farther endpoint, BENCH_PHASES=1 times the relay's store and send calls;
 *   scenarios: BENCH_PER_AGGREGATE=n events per aggregate (default 10; ≥ the cell's events: one
 *   aggregate, many events), BENCH_FIFO=1 FIFO queues for every contender; BENCH_CONTENDERS=relay,
 *   relay-spread,raw also runs the relay with every sweep worker busy however few the aggregates)
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, test } from 'vitest';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '../src/index.js';
import { outboxWatchdog, sqsSender } from '../src/sqs.js';
import type { Sender } from '../src/relay/types.js';
import { redisLeaseStore } from '@steadyfn/lease';
import { createQueue, deleteQueue, receiveAll, sqsClient } from '../test/sqs-servers.js';
import { recordBench, spreadOf } from '../../../test/support/bench-results.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { benchRedis, dropPrefix, events, explainText, measureCell, PER_AGGREGATE, ratioText, type BenchRedis, type CellResult, type Contender } from './relay-contenders.js';
import { CONCURRENCY, COUNTS, countsOf, distantPort, DISTANCE_COUNTS, median, benchServers, mixesOfRun, MIXES } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const DELAY_MS = Number(process.env.BENCH_SQS_DELAY_MS ?? 3);
const VIEWS = process.env.BENCH_VIEWS?.split(',') ?? ['loopback', 'distance'];
const onlyContenders = (all: Contender[]): Contender[] => all.filter((n) => !process.env.BENCH_CONTENDERS || process.env.BENCH_CONTENDERS.split(',').includes(n));

const servers = benchServers();
let redis: Redis;
let r: BenchRedis;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
  r = benchRedis(redis);
});
afterAll(() => {
  redis?.disconnect();
});

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
  await dropPrefix(redis, prefix);
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
    await dropPrefix(redis, prefix);
  }
  await receiveAll(client, queueUrl, 100, 500);
  await deleteQueue(client, relayQueue);
  return out;
}


const AGAINST = {
  naive: 'a naive relay (one SendMessage per event, same store and marks)',
  raw: 'a raw SendMessageBatch loop of byte-packed batches of the same messages (bodies and the five attributes), no outbox',
  'raw-minimal': 'a raw SendMessageBatch loop of byte-packed batches of messages with one attribute (what the five cost on the server)',
  'sqs-producer': 'sqs-producer (batches of 10, no store)',
} as const;

/** The relay's ratios of a cell, as a row. */
function cellRow(server: string, mix: string, c: CellResult, counts: { events: number; naive: number }, extra: Contender[]): string {
  const rate = (n: Contender, w: number) => `${n} ${c.rate[n].toFixed(0).padStart(w)}`;
  const ceiling = c.rate.naive > 0 ? `${(c.rate.raw / c.rate.naive).toFixed(2)}×` : 'n/a';
  return (
    `[bench] ${server.padEnd(6)} ${mix.padEnd(12)} ${String(counts.events).padStart(5)} events | events/s ${rate('relay', 6)} ${rate('naive', 5)} ${rate('raw', 6)}${extra.map((n) => ` ${rate(n, 6)}`).join('')}` +
    `${extra.includes('sqs-producer') ? ` [${c.delivered['sqs-producer']}/${counts.events}]` : ''} | relay vs naive ${ratioText(c.rate, 'naive')} (goal ≥ 8×; raw ÷ naive ${ceiling}), vs raw ${ratioText(c.rate, 'raw')} (goal ≥ 0.8×)${c.rate['relay-spread'] > 0 && c.rate.raw > 0 ? `, relay-spread ${c.rate['relay-spread'].toFixed(0)} vs raw ${(c.rate['relay-spread'] / c.rate.raw).toFixed(2)}×` : ''}` +
    `${extra.map((n) => `, vs ${n} ${ratioText(c.rate, n)}`).join('')} | fill entries ${c.fill.entries.toFixed(2)} bytes ${c.fill.bytes.toFixed(2)} | Redis calls per aggregate ${c.storeCallsPerAggregate.toFixed(2)} [${c.delivered.relay}/${counts.events}] | naive ${counts.naive} events [${c.delivered.naive}/${counts.naive}] | ${explainText(c)}`
  );
}

test('relay vs naive relay vs raw batch loop vs sqs-producer, loopback; fill, flush latency, recovery', async () => {
  const own = servers();
  if (!own || !VIEWS.includes('loopback')) return;
  const rows: string[] = [];
  const vs: Record<'naive' | 'raw' | 'raw-minimal' | 'sqs-producer', number[]> = { naive: [], raw: [], 'raw-minimal': [], 'sqs-producer': [] };
  for (const server of own) {
    const client = sqsClient(server.endpoint, 3);
    for (const mix of mixesOfRun()) {
      const counts = countsOf(COUNTS, server.name, mix, SCALE, PER_AGGREGATE);
      const c = await measureCell(client, r, { counts, mix, rounds: ROUNDS, contenders: onlyContenders(['relay', 'relay-spread', 'naive', 'raw', 'raw-minimal', 'sqs-producer']) });
      for (const other of ['naive', 'raw', 'raw-minimal', 'sqs-producer'] as const) if (c.rate[other] > 0) vs[other].push(c.rate.relay / c.rate[other]);
      rows.push(cellRow(server.name, mix, c, counts, ['raw-minimal', 'sqs-producer']));
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
  recordBench(
    ...(['naive', 'raw', 'raw-minimal', 'sqs-producer'] as const).map((other) => {
      const s = spreadOf(vs[other]);
      return { key: `outbox.relay.${other}`, value: s.min, unit: '×' as const, detail: `events/s, the relay (Redis outbox, leases, marks after SQS accepted) vs ${AGAINST[other]}: lowest of ${vs[other].length} cases (median ${s.median.toFixed(2)}×), ${cases}` };
    }),
  );
  console.log(`\n[bench] events per second, median of ${ROUNDS} interleaved rounds, ${CONCURRENCY} calls in flight; [delivered/total]`);
  for (const row of rows) console.log(row);
}, 1_800_000);

/** The round trip a proxy adds: median of sequential calls through it minus direct, interleaved. */
async function addedRoundTrip(direct: SQSClient, proxied: SQSClient, queueUrl: string): Promise<{ direct: number; proxied: number }> {
  const time = async (c: SQSClient) => {
    const t = performance.now();
    await c.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }));
    return performance.now() - t;
  };
  const d: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < 40; i++) {
    d.push(await time(direct));
    p.push(await time(proxied));
  }
  return { direct: median(d), proxied: median(p) };
}

test(`relay vs naive relay vs raw batch loop, SQS ${DELAY_MS} ms away each way`, async () => {
  const own = servers();
  if (!own || !VIEWS.includes('distance') || !(DELAY_MS > 0)) return;
  const rows: string[] = [];
  const vs: Record<'naive' | 'raw', number[]> = { naive: [], raw: [] };
  const trips: string[] = [];
  const child = bundleChild(new URL('./delay-proxy-child.ts', import.meta.url).href, { format: 'esm', banner: true });
  for (const server of own) {
    const proxy = await distantPort(child.file, Number(new URL(server.endpoint).port), DELAY_MS);
    const direct = sqsClient(server.endpoint, 3);
    const client = sqsClient(`http://127.0.0.1:${proxy.port}`, 3);
    try {
      const probe = await createQueue(client, 'bench-rtt', { maxBytes: 1_048_576 });
      const rtt = await addedRoundTrip(direct, client, probe);
      await deleteQueue(client, probe);
      trips.push(`${server.name} +${(rtt.proxied - rtt.direct).toFixed(1)} ms`);
      console.log(`[bench] ${server.name.padEnd(6)} through the proxy: GetQueueAttributes p50 ${rtt.proxied.toFixed(1)} ms vs ${rtt.direct.toFixed(1)} ms direct (the proxy adds ${(rtt.proxied - rtt.direct).toFixed(1)} ms per call)`);
      for (const mix of mixesOfRun()) {
        const counts = countsOf(DISTANCE_COUNTS, server.name, mix, SCALE, PER_AGGREGATE);
        const c = await measureCell(client, r, { counts, mix, rounds: ROUNDS, contenders: onlyContenders(['relay', 'relay-spread', 'naive', 'raw']) });
        for (const other of ['naive', 'raw'] as const) if (c.rate[other] > 0) vs[other].push(c.rate.relay / c.rate[other]);
        rows.push(cellRow(`${server.name}+${DELAY_MS}`, mix, c, counts, []));
        console.log(rows.at(-1));
      }
    } finally {
      direct.destroy();
      client.destroy();
      proxy.stop();
    }
  }
  rmSync(child.dir, { recursive: true, force: true });
  const cases = `${own.map((s) => s.name).join(' and ')} behind a TCP proxy holding every chunk ${DELAY_MS} ms each way (measured per call: ${trips.join(', ')}), Redis on loopback, × ${MIXES.length} payload mixes (256 B … 1 MiB), ${CONCURRENCY} calls in flight, median of ${ROUNDS} interleaved rounds`;
  recordBench(
    ...(['naive', 'raw'] as const).map((other) => {
      const s = spreadOf(vs[other]);
      return { key: `outbox.relay.distance.${other}`, value: s.min, unit: '×' as const, detail: `events/s, the relay vs ${AGAINST[other]}, SQS ${DELAY_MS} ms away each way: lowest of ${vs[other].length} cases (median ${s.median.toFixed(2)}×), ${cases}` };
    }),
  );
  console.log(`\n[bench] SQS ${DELAY_MS} ms away each way: events per second, median of ${ROUNDS} interleaved rounds, ${CONCURRENCY} calls in flight; [delivered/total]`);
  for (const row of rows) console.log(row);
}, 1_800_000);
