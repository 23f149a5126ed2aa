/**
 * A driver for profiling the relay's client CPU per event (not a bench: it asserts and records
 * nothing). It records `PROFILE_EVENTS` 256 B events (aggregates of 10) in Redis, relays them
 * with the sweeper's relay to the SQS at `SQS_ALT_ENDPOINT` (fauxqs) exactly as `relay.bench.ts`
 * does, then sends the same messages with the raw batch loop, `PROFILE_REPEAT` times each, and
 * prints per contender the client CPU per event, the Redis calls and SQS calls per 100 events.
 * `PROFILE_SQS=fake`, `PROFILE_REDIS_STATS=1` and `PROFILE_REDIS_PID` are described where they are read.
 * With `PROFILE_OUT=<dir>` it also writes a CPU profile (the inspector's, as `node --cpu-prof`
 * writes) of each contender's measured part only, without the recording; `PROFILE_ONLY=relay`
 * (or `raw`) runs one contender. Bundled, from packages/outbox:
 *
 *   esbuild bench/relay-profile.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=node_modules/.cache/relay-profile.mjs
 *   PROFILE_OUT=/tmp/prof node node_modules/.cache/relay-profile.mjs
 *
 * Uses the shared Redis (`REDIS_URL`) under a fresh prefix, and a fresh queue; both removed after.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { redisLeaseStore } from '@steadyfn/lease';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { prepareEvent, redisRelayStore, redisWrite } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { MetricsRecorder } from '../src/relay/metrics.js';
import { sweep } from '../src/relay/sweeper.js';
import { packBatches } from '../src/sqs/pack.js';
import { messageBytes } from '../src/sqs/size.js';
import { createQueue, deleteQueue, sqsClient } from '../test/sqs-servers.js';
import { benchRedis, dropPrefix, eventMessages, events, PER_AGGREGATE } from './relay-contenders.js';
import { CONCURRENCY, meteredClient, rawLoop } from './support.js';

const COUNT = Number(process.env.PROFILE_EVENTS ?? 5000);
const REPEAT = Number(process.env.PROFILE_REPEAT ?? 3);
const ONLY = process.env.PROFILE_ONLY;

const redis = new Redis(process.env.REDIS_URL!);
const r = benchRedis(redis);
const client = sqsClient(process.env.SQS_ALT_ENDPOINT!, 3);
/**
 * `PROFILE_SQS=fake`: the relay's sender calls an SQS client that accepts every entry at once,
 * without the SDK or a server, so the CPU per event left is the relay's own (store calls,
 * messages, packing, report) — the part the raw loop does not have — undisturbed by the load
 * the SQS server puts on the machine.
 */
const FAKE = process.env.PROFILE_SQS === 'fake';
const accepting = (real: SQSClient): SQSClient => {
  const fake = Object.create(real) as SQSClient;
  let n = 0;
  fake.send = (async (command: { input: { Entries?: Array<{ Id?: string }> } }) =>
    command.input.Entries ? { Successful: command.input.Entries.map((e) => ({ Id: e.Id, MessageId: `m${n++}`, MD5OfMessageBody: '' })), Failed: [] } : { Attributes: { MaximumMessageSize: '1048576' } }) as SQSClient['send'];
  return fake;
};
const sizes = Array.from({ length: COUNT }, () => 256);
/** With `PROFILE_OUT=<dir>`: a CPU profile of each contender's measured part only (not the recording), `<dir>/<contender>-<round>.cpuprofile`. */
const OUT = process.env.PROFILE_OUT;
const session = OUT ? new Session() : undefined;
session?.connect();
await session?.post('Profiler.enable');
const profiled = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
  await session?.post('Profiler.start');
  try {
    return await work();
  } finally {
    if (session) writeFileSync(`${OUT}/${name}.cpuprofile`, JSON.stringify((await session.post('Profiler.stop')).profile));
  }
};
/**
 * `PROFILE_REDIS_STATS=1` — only against a Redis of your own (it resets the server's command
 * statistics): also prints the server's own time in scripts per event relayed (`INFO
 * commandstats`, EVALSHA and EVAL, reset after the events are recorded) and the commands the
 * scripts ran per event (every other command's calls: the relay sends nothing but scripts).
 */
const STATS = process.env.PROFILE_REDIS_STATS === '1';
const serverStats = async (): Promise<{ usec: number; commands: number }> => {
  const info = String(await redis.call('INFO', 'commandstats'));
  let usec = 0;
  let commands = 0;
  for (const [, name, calls, time] of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/gm)) {
    if (name === 'evalsha' || name === 'eval') usec += Number(time);
    else if (name !== 'info' && name !== 'config|resetstat') commands += Number(calls);
  }
  return { usec, commands };
};
/**
 * `PROFILE_REDIS_PID=<pid>` — the pid of that `redis-server` (Linux): also prints its CPU time
 * per event relayed (user + system, from `/proc/<pid>/stat`, 10 ms ticks), the server's work on
 * the same cores as the client and the SQS server. `INFO commandstats` times are wall time and
 * grow with the machine's load; this does not.
 */
const REDIS_PID = process.env.PROFILE_REDIS_PID;
const redisCpuUs = (): number => {
  if (!REDIS_PID) return 0;
  const fields = readFileSync(`/proc/${REDIS_PID}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
const per100 = (n: number, events: number) => ((n * 100) / Math.max(1, events)).toFixed(2);

async function record(prefix: string): Promise<void> {
  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < COUNT; i += PER_AGGREGATE) {
    const batch = Array.from({ length: Math.min(PER_AGGREGATE, COUNT - i) }, () => prepareEvent(events, { type: 'Bench', aggregateId: `a${i / PER_AGGREGATE}`, payload: { pad: '' } }, {}));
    writes.push(redisWrite(redis, prefix, { checks: [], commands: [], events: batch }));
    if (writes.length >= 16) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

for (let round = 0; round < REPEAT; round++) {
  if (ONLY !== 'raw') {
    const prefix = `obx-prof-${randomUUID().slice(0, 8)}:`;
    await record(prefix);
    const queueUrl = await createQueue(client, 'prof', { maxBytes: 1_048_576 });
    const meter = meteredClient(FAKE ? accepting(client) : client);
    r.calls.n = 0;
    const lease = redisLeaseStore({ client: r.counted, prefix: `${prefix}lease:` });
    const store = redisRelayStore({ client: r.counted, prefix }).withLease!(lease);
    const metrics = new MetricsRecorder();
    if (STATS) await redis.call('CONFIG', 'RESETSTAT');
    const t0 = performance.now();
    const redis0 = redisCpuUs();
    const cpu0 = process.cpuUsage();
    await profiled(`relay-${round}`, () => sweep(
      { store, lease, sender: sqsSender({ client: meter.client, queueUrl, concurrency: CONCURRENCY }), metrics },
      { leaseMs: 60_000, maxEventsPerAggregate: 50, poison: { maxAttempts: 1000, maxUnfinishedAttempts: 1000 }, reserveMs: 0, remainingMs: () => 600_000 },
      { graceMs: 0, maxAggregates: 100_000, chunk: 25, parallel: 4, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 },
    ));
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - t0;
    const sent = metrics.snapshot().sent;
    const stats = STATS ? await serverStats() : undefined;
    const redisCpu = REDIS_PID ? `, redis-server CPU ${((redisCpuUs() - redis0) / sent).toFixed(1)} µs/event` : '';
    const server = (stats ? `, Redis server time in scripts ${(stats.usec / sent).toFixed(2)} µs/event, commands run by them ${(stats.commands / sent).toFixed(2)} per event` : '') + redisCpu;
    console.log(`relay: ${sent}/${COUNT} sent, ${((sent / ms) * 1000).toFixed(0)} events/s, client CPU ${((cpu.user + cpu.system) / sent).toFixed(1)} µs/event (system ${(cpu.system / sent).toFixed(1)}), Redis calls per 100 events ${per100(r.calls.n, sent)}, SQS calls per 100 events ${Object.entries(meter.calls()).map(([k, v]) => `${k.replace(/Command$/, '')} ${per100(v, sent)}`).join(' + ')}, in flight ${meter.meanInFlight().toFixed(2)}${server}`);
    await dropPrefix(redis, prefix);
    await deleteQueue(client, queueUrl);
  }
  if (ONLY !== 'relay' && !FAKE) {
    const msgs = eventMessages(sizes);
    const queueUrl = await createQueue(client, 'prof', { maxBytes: 1_048_576 });
    const meter = meteredClient(client);
    const batches = packBatches(msgs.map((m) => ({ bytes: messageBytes(m.body, m.attributes) })), { maxEntries: 10, maxBytes: 1_048_576 }).map((b) => b.map((i) => msgs[i]!));
    const cpu0 = process.cpuUsage();
    const out = await profiled(`raw-${round}`, () => rawLoop(meter.client, queueUrl, batches));
    const cpu = process.cpuUsage(cpu0);
    console.log(`raw:   ${out.delivered}/${COUNT} sent, ${((out.delivered / out.ms) * 1000).toFixed(0)} events/s, client CPU ${((cpu.user + cpu.system) / out.delivered).toFixed(1)} µs/event (system ${(cpu.system / out.delivered).toFixed(1)}), SQS calls per 100 events ${Object.entries(meter.calls()).map(([k, v]) => `${k.replace(/Command$/, '')} ${per100(v, out.delivered)}`).join(' + ')}, in flight ${meter.meanInFlight().toFixed(2)}`);
    await deleteQueue(client, queueUrl);
  }
}
redis.disconnect();
client.destroy();
