/**
 * sqsSender against a raw `SendMessageBatch` loop and against `sqs-producer`, on the same SQS
 * server, in the same run, at the same concurrency (4 calls in flight), for payloads of 256 B,
 * 8 KiB, 200 KiB and a mix up to 1 MiB. Each server (moto, fauxqs) is a process of the bench's
 * own, on a free port, so the shared services are not stormed.
 *
 * Contenders:
 * - `raw (count)`: chunks of 10 messages, as the AWS sample and most loops do. A chunk over the
 *   1 MiB batch limit is refused (BatchRequestTooLong) and its messages count as not delivered.
 * - `raw (packed)`: the same loop fed batches cut by bytes with the sender's packer: the
 *   ceiling for the sender (no validation, no retries, no report). The goal is ≥ 0.8× of it.
 * - `sqs-producer` 8: batches of 10, sent one after another per `send()`; 4 `send()`s at once.
 *
 * Throughput = messages delivered per second, median of interleaved rounds. Printed, not asserted.
 * Message counts per server and mix (`COUNTS` in support.ts) give each cell about 1.5–2 s per
 * round; the most calls seen in flight are printed per contender.
 *
 *   npm run bench -- packages/outbox/bench/sqs-sender.bench.ts
 *   (BENCH_ROUNDS, BENCH_SCALE = fraction of the message counts, BENCH_DEBUG = progress lines)
 */
import { test } from 'vitest';
import { createQueue, deleteQueue, sqsClient } from '../test/sqs-servers.js';
import { packBatches } from '../src/sqs/pack.js';
import { sqsSender } from '../src/sqs/sender.js';
import { messageBytes } from '../src/sqs/size.js';
import type { OutboundMessage } from '../src/sqs/types.js';
import { recordBench, spreadOf } from '../../../test/support/bench-results.js';
import { CONCURRENCY, COUNTS, countsOf, median, meteredClient, messages, payloads, producerLoop, rawLoop, benchServers, mixesOfRun, MIXES, type Outcome } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);

const servers = benchServers();

test('sqsSender vs raw SendMessageBatch loops vs sqs-producer: throughput ratios and batch fill', async () => {
  const own = servers();
  if (!own) return;
  const rows: string[] = [];
  const vsRaw: number[] = [];
  const vsProducer: number[] = [];
  for (const server of own) {
    const client = sqsClient(server.endpoint, 3);
    for (const mix of mixesOfRun()) {
      const sizes = payloads(mix, countsOf(COUNTS, server.name, mix, SCALE).events);
      const inFlight: Record<string, number> = {};
      /** CPU of the bench process (SDK and sender), µs per message delivered. */
      const cpuPerMessage: Record<string, number[]> = {};
      const rate: Record<string, number[]> = { steadyfn: [], 'raw (count)': [], 'raw (packed)': [], 'sqs-producer': [] };
      const delivered: Record<string, number> = {};
      let fill = { entries: 0, bytes: 0 };
      let meter = meteredClient(client);
      const metered = () => meter.client;
      const contenders: Record<string, (queueUrl: string, msgs: OutboundMessage[]) => Promise<Outcome>> = {
        steadyfn: async (queueUrl, msgs) => {
          const sender = sqsSender({ client: metered(), queueUrl, maxMessageBytes: 1_048_576, concurrency: CONCURRENCY });
          const start = performance.now();
          const report = await sender.send(msgs);
          return { delivered: report.sent.length, ms: performance.now() - start, fill: report.fill };
        },
        'raw (count)': (queueUrl, msgs) => rawLoop(metered(), queueUrl, Array.from({ length: Math.ceil(msgs.length / 10) }, (_, i) => msgs.slice(i * 10, i * 10 + 10))),
        'raw (packed)': (queueUrl, msgs) =>
          rawLoop(metered(), queueUrl, packBatches(msgs.map((m) => ({ bytes: messageBytes(m.body, m.attributes) })), { maxEntries: 10, maxBytes: 1_048_576 }).map((b) => b.map((i) => msgs[i]!))),
        'sqs-producer': (queueUrl, msgs) => producerLoop(metered(), queueUrl, msgs),
      };
      for (let round = 0; round < ROUNDS; round++) {
        const order = Object.keys(contenders);
        if (round % 2 === 1) order.reverse();
        for (const name of order) {
          if (process.env.BENCH_DEBUG) console.log(`[bench] … ${server.name} ${mix} ${name} round ${round}`);
          const queueUrl = await createQueue(client, 'bench', { maxBytes: 1_048_576 });
          meter = meteredClient(client);
          const msgs = messages(sizes, `${name.replace(/\W/g, '')}${round}`);
          const cpu0 = process.cpuUsage();
          const out = await contenders[name]!(queueUrl, msgs);
          const cpu = process.cpuUsage(cpu0);
          (cpuPerMessage[name] ??= []).push((cpu.user + cpu.system) / Math.max(1, out.delivered));
          await deleteQueue(client, queueUrl);
          rate[name]!.push((out.delivered / out.ms) * 1000);
          delivered[name] = out.delivered;
          inFlight[name] = Math.max(inFlight[name] ?? 0, meter.maxInFlight());
          if (out.fill) fill = out.fill;
        }
      }
      const r = Object.fromEntries(Object.entries(rate).map(([k, v]) => [k, median(v)]));
      const ratio = (other: string) => (r[other]! > 0 ? `${(r.steadyfn! / r[other]!).toFixed(2)}×` : 'n/a (delivers 0)');
      vsRaw.push(r.steadyfn! / r['raw (packed)']!);
      if (r['sqs-producer']! > 0) vsProducer.push(r.steadyfn! / r['sqs-producer']!);
      rows.push(
        `[bench] ${server.name.padEnd(6)} ${mix.padEnd(12)} ${String(sizes.length).padStart(5)} msgs | msg/s steadyfn ${r.steadyfn!.toFixed(0).padStart(6)}  raw(count) ${r['raw (count)']!.toFixed(0).padStart(6)} [${delivered['raw (count)']}/${sizes.length}]  raw(packed) ${r['raw (packed)']!.toFixed(0).padStart(6)}  sqs-producer ${r['sqs-producer']!.toFixed(0).padStart(6)} [${delivered['sqs-producer']}/${sizes.length}] | steadyfn vs raw(packed) ${ratio('raw (packed)')}, vs raw(count) ${ratio('raw (count)')}, vs sqs-producer ${ratio('sqs-producer')} | fill entries ${fill.entries.toFixed(2)} bytes ${fill.bytes.toFixed(2)} [${delivered.steadyfn}/${sizes.length}] | most calls in flight ${Object.keys(contenders).map((n) => `${n} ${inFlight[n]}`).join(', ')} | client CPU µs/msg ${Object.keys(contenders).map((n) => `${n} ${median(cpuPerMessage[n]!).toFixed(0)}`).join(', ')}`,
      );
      console.log(rows.at(-1));
    }
    client.destroy();
  }
  const cases = `${own.map((s) => s.name).join(' and ')} × ${MIXES.length} payload mixes (256 B … 1 MiB), ${CONCURRENCY} calls in flight, median of ${ROUNDS} interleaved rounds`;
  const raw = spreadOf(vsRaw);
  const producer = spreadOf(vsProducer);
  recordBench(
    { key: 'outbox.sender.raw', value: raw.min, unit: '×', detail: `messages/s, sqsSender vs a raw SendMessageBatch loop fed the same byte-packed batches: lowest of ${vsRaw.length} cases (median ${raw.median.toFixed(2)}×), ${cases}` },
    { key: 'outbox.sender.sqs-producer', value: producer.min, unit: '×', detail: `messages/s, sqsSender vs sqs-producer: lowest of ${vsProducer.length} cases where sqs-producer delivers (median ${producer.median.toFixed(2)}×), ${cases}` },
  );
  console.log(`\n[bench] throughput, median of ${ROUNDS} interleaved rounds, ${CONCURRENCY} calls in flight; [delivered/total]`);
  for (const row of rows) console.log(row);
}, 600_000);
