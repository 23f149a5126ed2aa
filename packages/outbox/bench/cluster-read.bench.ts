/**
 * A relay round's read (`begin`) over aggregates in many partitions (each its own hash tag, as
 * a sweep chunk of 25 aggregates written with a tag per aggregate), on Redis Cluster against
 * the standalone Redis, same data, same run: on one server every aggregate is in one script; on
 * a cluster each partition is a script of its own. The ratio cluster ÷ standalone (time per
 * read, median of BENCH_ROUNDS, default 40) says what the cluster's per-partition scripts cost.
 * Rows: BENCH_PARTITIONS (default 25 and 100) partitions × 10 events of 2 KiB, budget 2 MiB
 * (every event fits), and the same at a 64 KiB budget (the budget, not the count, ends the read).
 * Two views, same run: loopback, and every Redis server (the standalone and each cluster node,
 * reached through ioredis's `natMap`) behind the shared delay proxy in a process of its own,
 * BENCH_REDIS_DELAY_MS (default 1) each way — a store in the function's VPC a little away, where
 * round trips one after another add up.
 *
 *   npm run bench -- packages/outbox/bench/cluster-read.bench.ts
 */
import { rmSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import { test } from 'vitest';
import { z } from 'zod';
import { recordBench } from '../../../test/support/bench-results.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import type { LeasedRef } from '../src/relay/types.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { distantPort, median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const PARTITIONS = (process.env.BENCH_PARTITIONS ?? '25,100').split(',').map(Number);
const EVENTS = 10;
const BODY = 2 * 1024;
const BUDGETS = [2 * 1024 * 1024, 64 * 1024];
const DELAY_MS = Number(process.env.BENCH_REDIS_DELAY_MS ?? 1);
const events = { Blob: { aggregateType: 'blob', schema: z.object({ pad: z.string() }) } };

/** The standalone Redis and the cluster, direct or each server behind a delay proxy (`natMap` points the cluster's redirections at them). */
async function connect(view: 'loopback' | 'distance', child: string | undefined): Promise<{ standalone: Redis; cluster: Cluster; stop(): void }> {
  const redisPort = Number(new URL(process.env.REDIS_URL!).port);
  const nodes = clusterNodes();
  if (view === 'loopback' || !child) return { standalone: new Redis(redisPort, '127.0.0.1'), cluster: new Cluster(nodes), stop: () => undefined };
  const proxies = await Promise.all([redisPort, ...nodes.map((n) => n.port)].map((port) => distantPort(child, port, DELAY_MS)));
  const natMap = Object.fromEntries(nodes.map((n, i) => [`${n.host}:${n.port}`, { host: '127.0.0.1', port: proxies[i + 1]!.port }]));
  return {
    standalone: new Redis(proxies[0]!.port, '127.0.0.1'),
    cluster: new Cluster(nodes.map((_, i) => ({ host: '127.0.0.1', port: proxies[i + 1]!.port })), { natMap }),
    stop: () => proxies.forEach((p) => p.stop()),
  };
}

/** Median `begin` time of `items` on each of the two, interleaved (load on the shared machine falls on both alike), and the events read. */
async function measure(servers: { standalone: Redis; cluster: Cluster }, prefix: string, items: LeasedRef[], budget: number): Promise<{ one: number; many: number; read: number[] }> {
  const time = async (client: Redis | Cluster): Promise<{ ms: number; read: number }> => {
    const store = redisRelayStore({ client, prefix });
    const samples: number[] = [];
    let read = 0;
    for (let r = 0; r < ROUNDS + 3; r++) {
      const start = performance.now();
      const heads = await store.begin(items, { limit: 50, maxBytes: budget });
      if (r >= 3) samples.push(performance.now() - start);
      read = heads.reduce((n, h) => n + h.events.length, 0);
    }
    return { ms: median(samples), read };
  };
  const one: number[] = [];
  const many: number[] = [];
  let read = [0, 0];
  for (let i = 0; i < 3; i++) {
    const a = await time(servers.standalone);
    const b = await time(servers.cluster);
    one.push(a.ms);
    many.push(b.ms);
    read = [a.read, b.read];
  }
  return { one: median(one), many: median(many), read };
}

test('relay read over many partitions: Redis Cluster vs standalone Redis', async () => {
  const prefix = `bench-cr-${process.pid.toString(36)}-`;
  const standalone = new Redis(process.env.REDIS_URL!);
  const cluster = new Cluster(clusterNodes());
  const rows: string[] = [];
  const child = DELAY_MS > 0 ? bundleChild(new URL('./delay-proxy-child.ts', import.meta.url).href, { format: 'esm', banner: true }) : undefined;
  try {
    for (const partitions of PARTITIONS) {
      const ids = Array.from({ length: partitions }, (_, i) => `p${partitions}-${i}`);
      for (const client of [standalone, cluster]) {
        for (const id of ids) {
          const batch = Array.from({ length: EVENTS }, () => prepareEvent(events, { type: 'Blob', aggregateId: id, payload: { pad: 'x'.repeat(BODY) } }, {}));
          await redisWrite(client, prefix, { checks: [], commands: [['INCRBY', `${prefix}n:{${id}}`, 1]], events: batch });
        }
      }
      const items: LeasedRef[] = ids.map((id) => ({ ref: { where: id, aggregate: `blob/${id}`, since: 0 }, lease: { key: id, owner: 'bench', fence: 1 } }));
      for (const view of child ? (['loopback', 'distance'] as const) : (['loopback'] as const)) {
        const servers = await connect(view, child?.file);
        try {
          for (const budget of BUDGETS) {
            const { one, many, read } = await measure(servers, prefix, items, budget);
            const ratio = many / one;
            const label = `${view === 'loopback' ? 'loopback' : `Redis ${DELAY_MS} ms away each way`}, ${partitions} partitions × ${EVENTS} × 2 KiB, budget ${budget >= 1024 * 1024 ? `${budget / 1024 / 1024} MiB` : `${budget / 1024} KiB`}`;
            rows.push(`[bench] relay read, ${label}: standalone ${one.toFixed(2)} ms (${read[0]} events), cluster ${many.toFixed(2)} ms (${read[1]} events) → cluster ${ratio.toFixed(2)}× the standalone's time`);
            console.log(rows.at(-1));
            recordBench({ key: `outbox.cluster-read.${view}.p${partitions}.b${budget}`, value: ratio, unit: '×', detail: `begin() time, Redis Cluster ÷ standalone Redis, ${label}, median of ${ROUNDS}` });
          }
        } finally {
          servers.standalone.disconnect();
          servers.cluster.disconnect();
          servers.stop();
        }
      }
    }
  } finally {
    if (child) rmSync(child.dir, { recursive: true, force: true });
    await dropPrefix(standalone, prefix);
    await dropPrefix(cluster, prefix);
    standalone.disconnect();
    cluster.disconnect();
  }
  console.log('');
  for (const row of rows) console.log(row);
}, 1_800_000);
