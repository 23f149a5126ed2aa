/**
 * MongoDB's thaw-check grace (the ping waits for the driver's monitor after a pool clear: at most
 * 2 × `minHeartbeatFrequencyMS`) across a freeze. A check cut off by its deadline while the server
 * was `Unknown` starts an episode with that grace; before, the grace ran out on the monotonic clock,
 * so a freeze before the next check (here: the process idling between checks, which
 * `performance.now()` sees exactly as it sees a freeze) used it up, and the next ping — waiting for
 * the monitor as before — had only `pingTimeoutMs`: it failed and a healthy client was rebuilt.
 * Now it runs out only while checks wait (the monitor's timers stop with a frozen instance).
 *
 * A FerretDB this file starts and stops; the idle clock is the handle's `now` seam.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { ferretdbAvailable, startFerretDB, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

let server: (OwnServer & { uri: string }) | undefined;

beforeAll(async () => {
  if (!ferretdbAvailable()) throw new Error('FerretDB binary missing: run `bash test/services/services.sh start` (it builds .services/bin/ferretdb-local)');
  server = await startFerretDB();
}, 30_000);

afterAll(async () => {
  await closeAll();
  await server?.dispose();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function serverTypes(client: MongoClient): string[] {
  const servers = (client as unknown as { topology?: { description?: { servers?: Map<string, { type: string }> } } }).topology?.description?.servers;
  return [...(servers?.values() ?? [])].map((s) => s.type);
}

it('a freeze between two checks of an episode does not use up the monitor grace: the client is revalidated, not rebuilt', async () => {
  const own = server!;
  let clock = 0;
  // Grace 2 × 1 500 ms; pings 500 ms.
  const handle = mongo({ uri: own.uri, db: 'steadyfn_grace_freeze', pingTimeoutMs: 500, idleThresholdMs: 1_000, now: () => clock, options: { minHeartbeatFrequencyMS: 1_500, heartbeatFrequencyMS: 1_000, serverSelectionTimeoutMS: 20_000 } });
  const { client } = await handle.get({ signal: AbortSignal.timeout(10_000) });
  await client.db('admin').command({ ping: 1 });
  await own.stop();
  // The monitor's next check (every second here) finds the server gone: `Unknown`.
  await eventually(() => serverTypes(client).every((type) => type === 'Unknown'), 5_000, 25, () => JSON.stringify(serverTypes(client)));

  clock += 2_000; // idle: the next use checks
  await expect(handle.acquire({ signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' });
  await sleep(3_500); // "frozen" past the whole grace

  const next = handle.acquire({ signal: AbortSignal.timeout(15_000) });
  await sleep(700); // past pingTimeoutMs: before, this ping had failed by now
  await own.start();
  const lease = await next;
  // Before: 'reconnected' (pingFailures 1, reconnects 1).
  expect(lease.state).toBe('revalidated');
  expect(handle.stats).toMatchObject({ pingFailures: 0, reconnects: 0, connects: 1 });
}, 60_000);
