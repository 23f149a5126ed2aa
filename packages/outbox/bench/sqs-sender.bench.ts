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
 *
 *   npm run bench -- packages/outbox/bench/sqs-sender.bench.ts
 *   (BENCH_ROUNDS, BENCH_SCALE = fraction of the message counts, BENCH_DEBUG = progress lines)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { Producer } from 'sqs-producer';
import { afterAll, beforeAll, test } from 'vitest';
import { repoRoot } from '../../../test/services/env.js';
import { createQueue, deleteQueue, sqsClient } from '../test/sqs-servers.js';
import { packBatches } from '../src/sqs/pack.js';
import { sqsSender } from '../src/sqs/sender.js';
import { messageBytes } from '../src/sqs/size.js';
import type { OutboundMessage } from '../src/sqs/types.js';

const CONCURRENCY = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const KiB = 1024;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

interface OwnServer {
  name: string;
  endpoint: string;
  process: ChildProcess;
}

async function startServers(): Promise<OwnServer[]> {
  const servers: OwnServer[] = [];
  const moto = `${repoRoot}.services/venv/bin/moto_server`;
  if (existsSync(moto)) {
    const port = await freePort();
    const child = spawn(moto, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitHttp(`http://127.0.0.1:${port}/moto-api/`);
    servers.push({ name: 'moto', endpoint: `http://127.0.0.1:${port}`, process: child });
  }
  const fauxqs = `${repoRoot}.services/fauxqs/node_modules/fauxqs/dist/app.js`;
  if (existsSync(fauxqs)) {
    const port = await freePort();
    const child = spawn(process.execPath, [`${repoRoot}test/services/fauxqs.mjs`, fauxqs, String(port)], { stdio: 'ignore' });
    await waitHttp(`http://127.0.0.1:${port}/health`);
    servers.push({ name: 'fauxqs', endpoint: `http://127.0.0.1:${port}`, process: child });
  }
  return servers;
}

let servers: OwnServer[] = [];
beforeAll(async () => {
  servers = await startServers();
}, 60_000);
afterAll(() => {
  for (const s of servers) s.process.kill('SIGTERM');
});

/** Deterministic payload sizes per mix. */
function payloads(mix: string): number[] {
  switch (mix) {
    case '256 B':
      return Array.from({ length: 600 }, () => 256);
    case '8 KiB':
      return Array.from({ length: 200 }, () => 8 * KiB);
    case '200 KiB':
      return Array.from({ length: 40 }, () => 200 * KiB);
    default: {
      // A mix up to 1 MiB: mostly small, some large, a few near the limit.
      const sizes = [256, 1 * KiB, 8 * KiB, 64 * KiB, 200 * KiB, 600 * KiB, 1000 * KiB];
      const weights = [30, 20, 20, 12, 10, 5, 3];
      const out: number[] = [];
      let seed = 7;
      while (out.length < 40) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        let pick = seed % 100;
        let i = 0;
        while (pick >= weights[i]!) pick -= weights[i++]!;
        out.push(sizes[i]!);
      }
      return out;
    }
  }
}

function messages(sizes: number[], round: string): OutboundMessage[] {
  return sizes.map((bytes, i) => {
    const attributes = { seq: String(i) };
    return { id: `${round}-${i}`, body: 'b'.repeat(bytes - messageBytes('', attributes)), attributes };
  });
}

type Outcome = { delivered: number; ms: number; fill?: { entries: number; bytes: number } };

async function rawLoop(client: SQSClient, queueUrl: string, batches: OutboundMessage[][]): Promise<Outcome> {
  const limit = pLimit(CONCURRENCY);
  let delivered = 0;
  const start = performance.now();
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        try {
          const r = await client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: batch.map((m, i) => ({ Id: `e${i}`, MessageBody: m.body, MessageAttributes: { seq: { DataType: 'String', StringValue: m.attributes!.seq! } } })),
            }),
          );
          delivered += r.Successful?.length ?? 0;
        } catch {
          // BatchRequestTooLong: a count-only loop loses the chunk
        }
      }),
    ),
  );
  return { delivered, ms: performance.now() - start };
}

async function producerLoop(client: SQSClient, queueUrl: string, msgs: OutboundMessage[]): Promise<Outcome> {
  const producer = Producer.create({ queueUrl, sqs: client, batchSize: 10 });
  const chunk = Math.ceil(msgs.length / CONCURRENCY);
  let delivered = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      const mine = msgs.slice(w * chunk, (w + 1) * chunk).map((m) => ({ id: m.id, body: m.body, messageAttributes: { seq: { DataType: 'String', StringValue: m.attributes!.seq! } } }));
      // sqs-producer stops at the first refused batch of a send() and throws; count what got through before it.
      for (let i = 0; i < mine.length; i += 10) {
        try {
          const accepted = await producer.send(mine.slice(i, i + 10));
          delivered += accepted.length;
        } catch (error) {
          // refused batch (BatchRequestTooLong)
          if (process.env.BENCH_DEBUG) console.log('[bench] sqs-producer:', (error as Error).name, (error as Error).message.slice(0, 120));
        }
      }
    }),
  );
  return { delivered, ms: performance.now() - start };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('sqsSender vs raw SendMessageBatch loops vs sqs-producer: throughput ratios and batch fill', async () => {
  if (servers.length === 0) {
    console.log('[bench] no SQS server binaries under .services/ (run `bash test/services/services.sh start` once): skipped');
    return;
  }
  const rows: string[] = [];
  for (const server of servers) {
    const client = sqsClient(server.endpoint, 3);
    for (const mix of ['256 B', '8 KiB', '200 KiB', 'mix ≤ 1 MiB']) {
      const sizes = payloads(mix).slice(0, Math.max(1, Math.round(payloads(mix).length * SCALE)));
      const rate: Record<string, number[]> = { steadyfn: [], 'raw (count)': [], 'raw (packed)': [], 'sqs-producer': [] };
      const delivered: Record<string, number> = {};
      let fill = { entries: 0, bytes: 0 };
      const contenders: Record<string, (queueUrl: string, msgs: OutboundMessage[]) => Promise<Outcome>> = {
        steadyfn: async (queueUrl, msgs) => {
          const sender = sqsSender({ client, queueUrl, maxMessageBytes: 1_048_576, concurrency: CONCURRENCY });
          const start = performance.now();
          const report = await sender.send(msgs);
          return { delivered: report.sent.length, ms: performance.now() - start, fill: report.fill };
        },
        'raw (count)': (queueUrl, msgs) => rawLoop(client, queueUrl, Array.from({ length: Math.ceil(msgs.length / 10) }, (_, i) => msgs.slice(i * 10, i * 10 + 10))),
        'raw (packed)': (queueUrl, msgs) =>
          rawLoop(client, queueUrl, packBatches(msgs.map((m) => ({ bytes: messageBytes(m.body, m.attributes) })), { maxEntries: 10, maxBytes: 1_048_576 }).map((b) => b.map((i) => msgs[i]!))),
        'sqs-producer': (queueUrl, msgs) => producerLoop(client, queueUrl, msgs),
      };
      for (let round = 0; round < ROUNDS; round++) {
        const order = Object.keys(contenders);
        if (round % 2 === 1) order.reverse();
        for (const name of order) {
          if (process.env.BENCH_DEBUG) console.log(`[bench] … ${server.name} ${mix} ${name} round ${round}`);
          const queueUrl = await createQueue(client, 'bench', { maxBytes: 1_048_576 });
          const out = await contenders[name]!(queueUrl, messages(sizes, `${name.replace(/\W/g, '')}${round}`));
          await deleteQueue(client, queueUrl);
          rate[name]!.push((out.delivered / out.ms) * 1000);
          delivered[name] = out.delivered;
          if (out.fill) fill = out.fill;
        }
      }
      const r = Object.fromEntries(Object.entries(rate).map(([k, v]) => [k, median(v)]));
      const ratio = (other: string) => (r[other]! > 0 ? `${(r.steadyfn! / r[other]!).toFixed(2)}×` : 'n/a (delivers 0)');
      rows.push(
        `[bench] ${server.name.padEnd(6)} ${mix.padEnd(12)} ${String(sizes.length).padStart(5)} msgs | msg/s steadyfn ${r.steadyfn!.toFixed(0).padStart(6)}  raw(count) ${r['raw (count)']!.toFixed(0).padStart(6)} [${delivered['raw (count)']}/${sizes.length}]  raw(packed) ${r['raw (packed)']!.toFixed(0).padStart(6)}  sqs-producer ${r['sqs-producer']!.toFixed(0).padStart(6)} [${delivered['sqs-producer']}/${sizes.length}] | steadyfn vs raw(packed) ${ratio('raw (packed)')}, vs raw(count) ${ratio('raw (count)')}, vs sqs-producer ${ratio('sqs-producer')} | fill entries ${fill.entries.toFixed(2)} bytes ${fill.bytes.toFixed(2)} [${delivered.steadyfn}/${sizes.length}]`,
      );
      console.log(rows.at(-1));
    }
    client.destroy();
  }
  console.log(`\n[bench] throughput, median of ${ROUNDS} interleaved rounds, ${CONCURRENCY} calls in flight; [delivered/total]`);
  for (const row of rows) console.log(row);
}, 600_000);
