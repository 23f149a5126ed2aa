/**
 * The contenders of `relay.bench.ts` and one cell of it (a server, a payload mix, interleaved
 * rounds of each contender), shared by its loopback and its distance tests, so both measure the
 * same code the same way and differ only in the SQS client they are given.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { redisLeaseStore } from '@steadyfn/lease';
import type { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { z } from 'zod';
import { serializeEvent } from '../src/envelope.js';
import { prepareEvent, redisRelayStore, redisWrite } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { toMessage } from '../src/relay/message.js';
import { MetricsRecorder } from '../src/relay/metrics.js';
import type { RelayRunOptions } from '../src/relay/relay.js';
import { sweep } from '../src/relay/sweeper.js';
import type { RelayLease, RelayStore, Sender } from '../src/relay/types.js';
import { messageGroupId } from '../src/sqs/ids.js';
import { packBatches } from '../src/sqs/pack.js';
import { messageBytes } from '../src/sqs/size.js';
import type { OutboundMessage } from '../src/sqs/types.js';
import { createQueue, deleteQueue } from '../test/sqs-servers.js';
import { CONCURRENCY, median, meteredClient, payloads, producerLoop, rawLoop, sampleOf, wireAttributes, type MIXES } from './support.js';

/**
 * Events per aggregate (`BENCH_PER_AGGREGATE`, default 10). With one message of an aggregate per
 * `SendMessageBatch` (`onePerGroupPerBatch`, the default), an aggregate's n events take n calls
 * one after another: `BENCH_PER_AGGREGATE` ≥ the cell's events is the "one aggregate, many
 * events" scenario, bounded by one call per event.
 */
export const PER_AGGREGATE = Number(process.env.BENCH_PER_AGGREGATE ?? 10);
/** `BENCH_FIFO=1`: every contender sends to a FIFO queue (the raw loop with group and deduplication ids). */
export const FIFO = process.env.BENCH_FIFO === '1';
export const events = { Bench: { aggregateType: 'bench', schema: z.object({ pad: z.string() }) } };
const RUN: RelayRunOptions = { leaseMs: 60_000, maxEventsPerAggregate: 50, poison: { maxAttempts: 1000, maxUnfinishedAttempts: 1000 }, reserveMs: 0, remainingMs: () => 600_000 };
const SWEEP = { graceMs: 0, maxAggregates: 100_000, chunk: 25, parallel: 4, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 };

/**
 * `relay-spread`: the relay with the sweep's chunk cut to ⌈aggregates ÷ parallel⌉ whatever that
 * gives (the sweep's own rule cuts no chunk below 10 aggregates, a full batch): every parallel
 * worker busy, calls of fewer entries. Measured beside `relay` to weigh that trade.
 */
export type Contender = 'relay' | 'relay-spread' | 'naive' | 'raw' | 'raw-minimal' | 'sqs-producer';

/** The Redis the relay's store uses, and the same client counting the calls the relay's stores make (scripts and commands). */
export interface BenchRedis {
  redis: Redis;
  counted: Redis;
  calls: { n: number };
}

export function benchRedis(redis: Redis): BenchRedis {
  const calls = { n: 0 };
  const tracked = new Set(['evalsha', 'eval', 'call', 'set']);
  const counted = new Proxy(redis, { get: (t, k) => (typeof k === 'string' && tracked.has(k) ? (...a: unknown[]) => (calls.n++, (t[k as 'call'] as (...x: unknown[]) => unknown).apply(t, a)) : Reflect.get(t, k)) });
  return { redis, counted, calls };
}

/** The event drafts of `sizes`: aggregates of PER_AGGREGATE events, each padded to about its size. */
const drafts = (sizes: number[]) => sizes.map((bytes, i) => ({ type: 'Bench' as const, aggregateId: `a${Math.floor(i / PER_AGGREGATE)}`, payload: { pad: 'p'.repeat(Math.max(0, bytes - 400)) } }));

/** The messages the relay would send for `sizes`, without an outbox: envelope JSON bodies and the relay's attributes. */
export function eventMessages(sizes: number[]): OutboundMessage[] {
  return drafts(sizes).map((draft, i) => {
    const event = prepareEvent(events, draft, {});
    const seq = (i % PER_AGGREGATE) + 1;
    return toMessage({ ref: `0-${i}`, id: event.id, aggregate: `bench/${draft.aggregateId}`, aggregateId: draft.aggregateId, type: 'Bench', seq, body: serializeEvent(event, seq), committedAt: 0, started: 1, finished: 0, unjudged: 0 });
  });
}

/** Records one event per size (aggregates of PER_AGGREGATE events) under a fresh prefix. */
async function record(redis: Redis, sizes: number[]): Promise<string> {
  const prefix = `obx-bench-${randomUUID().slice(0, 8)}:`;
  const limit = pLimit(16);
  const writes: Array<Promise<unknown>> = [];
  const all = drafts(sizes);
  // At most 100 events a write (one aggregate of thousands is several writes).
  const step = Math.min(PER_AGGREGATE, 100);
  for (let i = 0; i < sizes.length; i += step) {
    const batch = all.slice(i, i + step).map((draft) => prepareEvent(events, draft, {}));
    writes.push(limit(() => redisWrite(redis, prefix, { checks: [], commands: [], events: batch })));
  }
  await Promise.all(writes);
  return prefix;
}

export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
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
          await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.body, MessageAttributes: wireAttributes(m.attributes), ...(FIFO ? { MessageGroupId: messageGroupId(m.groupKey!), MessageDeduplicationId: m.id } : {}) }));
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

/** What one cell measured: per contender the median events/s of its rounds, and what explains it. */
export interface CellResult {
  /** Median events per second (0 when the contender did not run). */
  rate: Record<Contender, number>;
  /** Events delivered in the contender's last round. */
  delivered: Partial<Record<Contender, number>>;
  /** Most SQS send calls seen in flight, and the median over rounds of the mean in flight. */
  inFlight: Partial<Record<Contender, { most: number; mean: number }>>;
  /** Median client CPU (the bench process: SDK, relay, store calls, and the proxy when there is one), µs per event delivered. */
  cpuPerEvent: Partial<Record<Contender, number>>;
  /** Median SQS calls per 100 events delivered, by command (SendMessageBatch, GetQueueAttributes, …). */
  sqsCallsPer100: Partial<Record<Contender, Record<string, number>>>;
  /** Median request body bytes the SDK sent per event delivered (SendMessage/SendMessageBatch calls). */
  wireBytesPerEvent: Partial<Record<Contender, number>>;
  /** The relay's batch fill (entries, bytes) of its last round. */
  fill: { entries: number; bytes: number };
  /** The relay's Redis calls per aggregate, median of its rounds. */
  storeCallsPerAggregate: number;
}

export interface CellPlan {
  /** Events the relay, raw loop and sqs-producer send; events the naive relay sends. */
  counts: { events: number; naive: number };
  mix: (typeof MIXES)[number];
  contenders: Contender[];
  rounds: number;
}

const FORWARD: Contender[] = ['relay', 'relay-spread', 'naive', 'raw', 'raw-minimal', 'sqs-producer'];

/**
 * Runs `plan.rounds` interleaved rounds (the order rotated by one every round, so each contender
 * takes each place in turn: with the order reversed every other round instead, the middle
 * contender was always in the middle — `raw` in this bench's order — and of two relays measured
 * so on fauxqs 256 B, the one in the middle came out faster in 8 of 9 runs, by 4–52 %, whichever
 * it was: README, Bench) of each contender
 * on `client`'s SQS server, each round on a fresh queue (and, for the relay and the naive relay,
 * freshly recorded events under a fresh Redis prefix), and returns the medians.
 */
export async function measureCell(client: SQSClient, r: BenchRedis, plan: CellPlan): Promise<CellResult> {
  const sizes = payloads(plan.mix, plan.counts.events);
  // The naive relay sends fewer events (it is 5–15× slower): the same mix of sizes, sampled.
  const naiveSizes = plan.counts.naive >= sizes.length ? payloads(plan.mix, plan.counts.naive) : sampleOf(sizes, plan.counts.naive);
  const rates: Partial<Record<Contender, number[]>> = {};
  const cpu: Partial<Record<Contender, number[]>> = {};
  const mean: Partial<Record<Contender, number[]>> = {};
  const wire: Partial<Record<Contender, number[]>> = {};
  const callSamples: Partial<Record<Contender, Array<Record<string, number>>>> = {};
  const out: CellResult = { rate: { relay: 0, 'relay-spread': 0, naive: 0, raw: 0, 'raw-minimal': 0, 'sqs-producer': 0 }, delivered: {}, inFlight: {}, cpuPerEvent: {}, sqsCallsPer100: {}, wireBytesPerEvent: {}, fill: { entries: 0, bytes: 0 }, storeCallsPerAggregate: 0 };
  const storeCalls: number[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    const chosen = FORWARD.filter((n) => plan.contenders.includes(n));
    const order = [...chosen.slice(round % chosen.length), ...chosen.slice(0, round % chosen.length)];
    for (const name of order) {
      const queueUrl = await createQueue(client, 'bench', { maxBytes: 1_048_576, fifo: FIFO });
      const meter = meteredClient(client);
      let count = 0;
      let ms = 0;
      let used = { user: 0, system: 0 };
      if (name === 'relay' || name === 'relay-spread' || name === 'naive') {
        const prefix = await record(r.redis, name === 'naive' ? naiveSizes : sizes);
        r.calls.n = 0;
        const lease = redisLeaseStore({ client: r.counted, prefix: `${prefix}lease:` });
        // The relay marks and releases in one script; the naive relay marks each event alone, then releases.
        const store = name !== 'naive' ? redisRelayStore({ client: r.counted, prefix }).withLease!(lease) : redisRelayStore({ client: r.counted, prefix });
        const start = performance.now();
        const cpu0 = process.cpuUsage();
        if (name !== 'naive') {
          const metrics = new MetricsRecorder();
          const deps = { store, lease, sender: sqsSender({ client: meter.client, queueUrl, concurrency: CONCURRENCY }), metrics };
          if (process.env.BENCH_PHASES) timePhases(deps);
          const aggregates = Math.ceil(sizes.length / PER_AGGREGATE);
          await sweep(deps, RUN, name === 'relay' ? SWEEP : { ...SWEEP, chunk: Math.min(SWEEP.chunk, Math.ceil(aggregates / SWEEP.parallel)) });
          if (process.env.BENCH_PHASES) console.log(`[bench] phases (summed over workers, ms): ${Object.entries(phases).map(([k, v]) => `${k} ${v.ms.toFixed(0)} (${v.n} calls)`).join(', ')}; elapsed ${(performance.now() - start).toFixed(0)}`);
          const m = metrics.snapshot();
          count = m.sent;
          if (name === 'relay') {
            out.fill = { entries: m.fillEntries, bytes: m.fillBytes };
            storeCalls.push(r.calls.n / aggregates);
          }
        } else count = await naiveRelay(store, lease, meter.client, queueUrl);
        ms = performance.now() - start;
        used = process.cpuUsage(cpu0);
        await dropPrefix(r.redis, prefix);
      } else {
        // `raw` and sqs-producer send the relay's messages (the envelope JSON and its five
        // attributes); `raw-minimal` messages of the same byte sizes with one attribute.
        const msgs: OutboundMessage[] = eventMessages(sizes).map((m, i) =>
          name === 'raw-minimal' ? { id: m.id, body: 'b'.repeat(Math.max(1, messageBytes(m.body, m.attributes) - messageBytes('', { seq: String(i) }))), attributes: { seq: String(i) } } : m,
        );
        const cpu0 = process.cpuUsage();
        const result =
          name !== 'sqs-producer'
            ? await rawLoop(meter.client, queueUrl, packBatches(msgs.map((m) => ({ bytes: messageBytes(m.body, m.attributes) })), { maxEntries: 10, maxBytes: 1_048_576 }).map((b) => b.map((i) => msgs[i]!)), FIFO)
            : await producerLoop(meter.client, queueUrl, msgs);
        used = process.cpuUsage(cpu0);
        count = result.delivered;
        ms = result.ms;
      }
      (cpu[name] ??= []).push((used.user + used.system) / Math.max(1, count));
      await deleteQueue(client, queueUrl);
      (rates[name] ??= []).push((count / ms) * 1000);
      out.delivered[name] = count;
      out.inFlight[name] = { most: Math.max(out.inFlight[name]?.most ?? 0, meter.maxInFlight()), mean: 0 };
      (mean[name] ??= []).push(meter.meanInFlight());
      (callSamples[name] ??= []).push(Object.fromEntries(Object.entries(meter.calls()).map(([k, v]) => [k, (v * 100) / Math.max(1, count)])));
      (wire[name] ??= []).push(meter.sendBytes() / Math.max(1, count));
    }
  }
  for (const name of plan.contenders) {
    if (!rates[name]) continue;
    out.rate[name] = median(rates[name]);
    out.inFlight[name]!.mean = median(mean[name]!);
    out.cpuPerEvent[name] = median(cpu[name]!);
    out.wireBytesPerEvent[name] = median(wire[name]!);
    const samples = callSamples[name]!;
    const commands = [...new Set(samples.flatMap((s) => Object.keys(s)))];
    out.sqsCallsPer100[name] = Object.fromEntries(commands.map((c) => [c, median(samples.map((s) => s[c] ?? 0))]));
  }
  out.storeCallsPerAggregate = storeCalls.length > 0 ? median(storeCalls) : 0;
  return out;
}

/** `r.relay / r[other]` as text, or why there is none. */
export function ratioText(rate: CellResult['rate'], other: Contender): string {
  return rate[other] > 0 ? `${(rate.relay / rate[other]).toFixed(2)}×` : 'n/a (delivers 0)';
}

/** The explaining tail of a row: calls in flight, client CPU, SQS calls and bytes per event. */
export function explainText(c: CellResult): string {
  const names = Object.keys(c.inFlight) as Contender[];
  return [
    `SQS calls in flight, most (mean): ${names.map((n) => `${n} ${c.inFlight[n]!.most} (${c.inFlight[n]!.mean.toFixed(2)})`).join(', ')}`,
    `client CPU µs/event: ${names.map((n) => `${n} ${c.cpuPerEvent[n]!.toFixed(0)}`).join(', ')}`,
    `SQS calls per 100 events: ${names.map((n) => `${n} ${Object.entries(c.sqsCallsPer100[n]!).map(([k, v]) => `${k.replace(/Command$/, '')} ${v.toFixed(1)}`).join(' + ')}`).join(', ')}`,
    `send request bytes/event: ${names.map((n) => `${n} ${c.wireBytesPerEvent[n]!.toFixed(0)}`).join(', ')}`,
  ].join(' | ');
}
