/**
 * What the outbox benches share: their own SQS server processes (moto and fauxqs on free
 * ports, so the shared services are not stormed), the payload mixes, and the peers every
 * bench compares against — a raw `SendMessageBatch` loop and `sqs-producer`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { Producer } from 'sqs-producer';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot } from '../../../test/services/env.js';
import { messageBytes } from '../src/sqs/size.js';
import { messageGroupId } from '../src/sqs/ids.js';
import type { OutboundMessage } from '../src/sqs/types.js';

/** Calls in flight for every contender. */
export const CONCURRENCY = 4;
export const KiB = 1024;

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

export interface OwnServer {
  name: string;
  endpoint: string;
  process: ChildProcess;
}

export async function startServers(): Promise<OwnServer[]> {
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

/**
 * How many events (messages) a cell sends, per server and mix: enough that the fastest
 * contender runs about 1.5–2 s per round on that server (measured rates of the servers here),
 * so fixed costs (queue, sweep setup) and scheduling noise stay small against the cell. The
 * naive relay, 5–15× slower, gets its own smaller count sized the same way; throughput is a
 * rate, so the counts need not match. `BENCH_SCALE` multiplies both.
 */
export const COUNTS: Record<string, Record<(typeof MIXES)[number], { events: number; naive: number }>> = {
  moto: { '256 B': { events: 200, naive: 100 }, '8 KiB': { events: 200, naive: 100 }, '200 KiB': { events: 100, naive: 50 }, 'mix ≤ 1 MiB': { events: 160, naive: 80 } },
  fauxqs: { '256 B': { events: 5000, naive: 600 }, '8 KiB': { events: 3000, naive: 600 }, '200 KiB': { events: 320, naive: 150 }, 'mix ≤ 1 MiB': { events: 480, naive: 250 } },
};

/**
 * The same cells with SQS a few ms away per call (`relay.bench.ts`'s distance view): the call's
 * round trip then bounds the naive relay far more than the batched contenders, so the naive
 * counts shrink against `COUNTS` and the batched ones stay about where they were.
 */
export const DISTANCE_COUNTS: typeof COUNTS = {
  moto: { '256 B': { events: 300, naive: 120 }, '8 KiB': { events: 300, naive: 100 }, '200 KiB': { events: 100, naive: 60 }, 'mix ≤ 1 MiB': { events: 160, naive: 80 } },
  fauxqs: { '256 B': { events: 4000, naive: 400 }, '8 KiB': { events: 2500, naive: 400 }, '200 KiB': { events: 320, naive: 150 }, 'mix ≤ 1 MiB': { events: 480, naive: 200 } },
};

/** The counts of a cell of `table`, scaled by `BENCH_SCALE` (at least `min`). */
export function countsOf(table: typeof COUNTS, server: string, mix: (typeof MIXES)[number], scale: number, min = 10): { events: number; naive: number } {
  const c = table[server]?.[mix] ?? table.moto![mix];
  return { events: Math.max(min, Math.round(c.events * scale)), naive: Math.max(min, Math.round(c.naive * scale)) };
}

/** Deterministic payload sizes per mix, `count` of them (the mix cycles its seeded sequence). */
export function payloads(mix: string, count: number): number[] {
  switch (mix) {
    case '256 B':
      return Array.from({ length: count }, () => 256);
    case '8 KiB':
      return Array.from({ length: count }, () => 8 * KiB);
    case '200 KiB':
      return Array.from({ length: count }, () => 200 * KiB);
    default: {
      // A mix up to 1 MiB: mostly small, some large, a few near the limit.
      const sizes = [256, 1 * KiB, 8 * KiB, 64 * KiB, 200 * KiB, 600 * KiB, 1000 * KiB];
      const weights = [30, 20, 20, 12, 10, 5, 3];
      const out: number[] = [];
      let seed = 7;
      while (out.length < count) {
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

/**
 * `n` of `sizes` with the same distribution — evenly spaced quantiles, kept in their original
 * order — so a contender that sends fewer events (the naive relay) sends the same mix, not the
 * head of the seeded sequence (whose first 45 of the mix average 55 KiB against 88 KiB).
 */
export function sampleOf(sizes: number[], n: number): number[] {
  if (n >= sizes.length) return sizes.slice();
  const byBytes = sizes.map((bytes, i) => [bytes, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const picked = Array.from({ length: n }, (_, k) => byBytes[Math.floor(((k + 0.5) * sizes.length) / n)]!);
  return picked.sort((a, b) => a[1] - b[1]).map(([bytes]) => bytes);
}

/**
 * The client as one contender sees it, counting its `SendMessage`/`SendMessageBatch` calls in
 * flight: the most seen at once (every contender keeps to `CONCURRENCY`) and the mean from the
 * first call to the last answer (how busy the contender kept its call slots). Also every call
 * by command (so a `GetQueueAttributes` per send would show) and the characters of message
 * bodies and attributes the send calls carried (string lengths: cheap, and the bench's
 * payloads are ASCII, so they are bytes).
 */
export function meteredClient(client: SQSClient): { client: SQSClient; maxInFlight: () => number; meanInFlight: () => number; calls: () => Record<string, number>; sendBytes: () => number } {
  let now = 0;
  let max = 0;
  let first = 0;
  let last = 0;
  let area = 0;
  let bytes = 0;
  const calls: Record<string, number> = {};
  const step = (delta: number) => {
    const t = performance.now();
    if (first === 0) first = t;
    else area += now * (t - last);
    last = t;
    now += delta;
    max = Math.max(max, now);
  };
  const metered = Object.create(client) as SQSClient;
  metered.send = (async (command: { constructor: { name: string }; input: WireInput }, ...rest: unknown[]) => {
    const name = command.constructor.name;
    calls[name] = (calls[name] ?? 0) + 1;
    const counted = /^SendMessage(Batch)?Command$/.test(name);
    if (counted) {
      step(1);
      for (const entry of command.input.Entries ?? [command.input]) bytes += wireLength(entry);
    }
    try {
      return await (client.send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
    } finally {
      if (counted) step(-1);
    }
  }) as SQSClient['send'];
  return { client: metered, maxInFlight: () => max, meanInFlight: () => (last > first ? area / (last - first) : 0), calls: () => ({ ...calls }), sendBytes: () => bytes };
}

interface WireEntry {
  MessageBody?: string;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}
type WireInput = WireEntry & { Entries?: WireEntry[] };

/** A message's body and attributes as SQS counts them (name, data type, value), in characters. */
const wireLength = (entry: WireEntry): number =>
  (entry.MessageBody?.length ?? 0) + Object.entries(entry.MessageAttributes ?? {}).reduce((n, [k, v]) => n + k.length + (v.DataType?.length ?? 0) + (v.StringValue?.length ?? 0), 0);

export function messages(sizes: number[], round: string): OutboundMessage[] {
  return sizes.map((bytes, i) => {
    const attributes = { seq: String(i) };
    return { id: `${round}-${i}`, body: 'b'.repeat(bytes - messageBytes('', attributes)), attributes };
  });
}

/** String message attributes as the SDK takes them. */
export const wireAttributes = (attributes: Readonly<Record<string, string>> = {}): Record<string, { DataType: 'String'; StringValue: string }> =>
  Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String' as const, StringValue: v }]));

export type Outcome = { delivered: number; ms: number; fill?: { entries: number; bytes: number }; inFlight?: number };

/**
 * `SendMessageBatch` of `batches`, `CONCURRENCY` calls at a time. On a FIFO queue (`fifo`) each
 * entry carries its `groupKey` as `MessageGroupId` (hashed as the sender does when SQS would
 * refuse it) and its id as `MessageDeduplicationId`; a batch may hold several of a group (no
 * order kept across calls: the ceiling, not a relay).
 */
export async function rawLoop(client: SQSClient, queueUrl: string, batches: OutboundMessage[][], fifo = false): Promise<Outcome> {
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
              Entries: batch.map((m, i) => ({ Id: `e${i}`, MessageBody: m.body, MessageAttributes: wireAttributes(m.attributes), ...(fifo ? { MessageGroupId: messageGroupId(m.groupKey ?? 'bench'), MessageDeduplicationId: m.id } : {}) })),
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

export async function producerLoop(client: SQSClient, queueUrl: string, msgs: OutboundMessage[]): Promise<Outcome> {
  const producer = Producer.create({ queueUrl, sqs: client, batchSize: 10 });
  const chunk = Math.ceil(msgs.length / CONCURRENCY);
  let delivered = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      const mine = msgs.slice(w * chunk, (w + 1) * chunk).map((m) => ({ id: m.id, body: m.body, messageAttributes: wireAttributes(m.attributes) }));
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

/** The payload mixes every bench runs. */
export const MIXES = ['256 B', '8 KiB', '200 KiB', 'mix ≤ 1 MiB'] as const;

/** The mixes this run measures: all, or those `BENCH_MIXES` names (comma-separated, e.g. `256 B,8 KiB`) while iterating. */
export const mixesOfRun = (): Array<(typeof MIXES)[number]> => {
  const only = process.env.BENCH_MIXES?.split(',').map((m) => m.trim());
  return MIXES.filter((m) => !only || only.includes(m));
};

/**
 * Starts the bench's own SQS servers before its tests and stops them after; the getter gives
 * them, or undefined (with a note printed) when no server binary is installed.
 */
export function benchServers(): () => OwnServer[] | undefined {
  let servers: OwnServer[] = [];
  beforeAll(async () => {
    const only = process.env.BENCH_SERVERS?.split(',');
    servers = (await startServers()).filter((s) => {
      if (!only || only.includes(s.name)) return true;
      s.process.kill('SIGTERM');
      return false;
    });
  }, 60_000);
  afterAll(() => {
    for (const s of servers) s.process.kill('SIGTERM');
  });
  return () => {
    if (servers.length > 0) return servers;
    console.log('[bench] no SQS server binaries under .services/ (run `bash test/services/services.sh start` once): skipped');
    return undefined;
  };
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The shared delay proxy (test/support/proxy.ts) in front of 127.0.0.1:`port`, holding every
 * chunk `delayMs` each way, in a process of its own (`child`: delay-proxy-child.ts bundled by
 * `bundleChild`), so the bench's own CPU work does not hold its "network" back.
 */
export async function distantPort(child: string, port: number, delayMs: number): Promise<{ port: number; stop: () => void }> {
  const proc = spawn(process.execPath, [child, '127.0.0.1', String(port), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`delay proxy exited (${code})`)));
  });
  return { port: (JSON.parse(line) as { port: number }).port, stop: () => void proc.kill('SIGTERM') };
}
