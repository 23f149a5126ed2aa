/**
 * A relay round's read (`begin`) over aggregates in many partitions (each its own hash tag, as
 * a sweep chunk of 25 aggregates written with a tag per aggregate), on Redis Cluster against
 * the standalone Redis, same data, same run: on one server every aggregate is in one script; on
 * a cluster each partition is a script of its own. The ratio cluster ÷ standalone (time per
 * read, median of BENCH_ROUNDS, default 40) says what the cluster's per-partition scripts cost.
 * Rows: BENCH_PARTITIONS (default 25 and 100) partitions × 10 events of 2 KiB, budget 2 MiB
 * (every event fits), and the same at a 64 KiB budget (the budget, not the count, ends the read).
 *
 *   npm run bench -- packages/outbox/bench/cluster-read.bench.ts
 */
import { Cluster, Redis } from 'ioredis';
import { test } from 'vitest';
import { z } from 'zod';
import { recordBench } from '../../../test/support/bench-results.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import type { LeasedRef } from '../src/relay/types.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const PARTITIONS = (process.env.BENCH_PARTITIONS ?? '25,100').split(',').map(Number);
const EVENTS = 10;
const BODY = 2 * 1024;
const BUDGETS = [2 * 1024 * 1024, 64 * 1024];
const events = { Blob: { aggregateType: 'blob', schema: z.object({ pad: z.string() }) } };

test('relay read over many partitions: Redis Cluster vs standalone Redis', async () => {
  const prefix = `bench-cr-${process.pid.toString(36)}-`;
  const standalone = new Redis(process.env.REDIS_URL!);
  const cluster = new Cluster(clusterNodes());
  const rows: string[] = [];
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
      for (const budget of BUDGETS) {
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
        // Interleaved, so load on the shared machine falls on both alike.
        const one: number[] = [];
        const many: number[] = [];
        let reads = [0, 0];
        for (let i = 0; i < 3; i++) {
          const a = await time(standalone);
          const b = await time(cluster);
          one.push(a.ms);
          many.push(b.ms);
          reads = [a.read, b.read];
        }
        const ratio = median(many) / median(one);
        const label = `${partitions} partitions × ${EVENTS} × 2 KiB, budget ${budget >= 1024 * 1024 ? `${budget / 1024 / 1024} MiB` : `${budget / 1024} KiB`}`;
        rows.push(`[bench] relay read, ${label}: standalone ${median(one).toFixed(2)} ms (${reads[0]} events), cluster ${median(many).toFixed(2)} ms (${reads[1]} events) → cluster ${ratio.toFixed(2)}× the standalone's time`);
        console.log(rows.at(-1));
        recordBench({ key: `outbox.cluster-read.p${partitions}.b${budget}`, value: ratio, unit: '×', detail: `begin() time, Redis Cluster ÷ standalone Redis, ${label}, median of ${ROUNDS}` });
      }
    }
  } finally {
    await dropPrefix(standalone, prefix);
    await dropPrefix(cluster, prefix);
    standalone.disconnect();
    cluster.disconnect();
  }
  for (const row of rows) console.log(row);
}, 900_000);
