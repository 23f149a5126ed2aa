/**
 * The thaw check's time unanswered, per episode, against a redis-server this file starts (so its
 * CLIENT PAUSE stops no one else) and a fault proxy in front of it for a silently dead socket:
 *
 * - Redis's ping grace (what is left of blocking commands queued before the ping) was read again
 *   at every check and kept as an end that only moved later. A holder of the client that kept
 *   writing blocking commands on a dead socket moved it later at every check, so the dead socket
 *   was never given up. It now counts once per unanswered episode, as Mongo's does: commands
 *   written after the episode's first ping queue behind it and cannot delay its answer.
 * - Time between checks counted as unanswered: a check cut off just before a freeze made the
 *   first check after it fail (no ping at all) and rebuild a healthy client. Only the time checks
 *   spend waiting counts now. The freeze is simulated: the lifecycle's clock (`now`) jumps past the
 *   idle threshold and real time passes with nothing of ours running in between, while CLIENT
 *   PAUSE keeps the server from answering (in a real freeze an answer would wait in the socket
 *   until the thaw).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

let server: OwnServer & { url: string };
let admin: Redis;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
  proxy = await startProxy(server.port);
});

afterEach(async () => {
  await admin.client('UNPAUSE');
  await closeAll();
});

afterAll(async () => {
  admin?.disconnect();
  await proxy?.close();
  await server?.dispose();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('redis(): the ping grace behind blocking commands, per unanswered episode', () => {
  it('a holder that keeps writing BLPOPs on a silently dead socket no longer keeps the client: the check fails after the first grace and pingTimeoutMs, and the client is rebuilt', async () => {
    let clock = 0;
    const handle = redis({ url: `redis://127.0.0.1:${proxy.port}`, name: `episode-${randomUUID().slice(0, 6)}`, idleThresholdMs: 1_000, pingTimeoutMs: 500, now: () => clock });
    const consumer = await handle.get({ signal: AbortSignal.timeout(10_000) });
    expect(await consumer.ping()).toBe('PONG');
    proxy.blackholeAll();
    const outcomes: string[] = [];
    for (let i = 0; i < 15; i++) {
      // A worker holding the client gives up on each BLPOP by its own timer and writes the next one.
      void consumer.blpop(`episode:${randomUUID()}`, 1).catch(() => undefined);
      clock += 60_000;
      try {
        outcomes.push((await handle.acquire({ signal: AbortSignal.timeout(300) })).state);
        break;
      } catch (err) {
        outcomes.push((err as Error).name);
      }
    }
    // Before: 15 × TimeoutError — each check moved the grace to the end of the BLPOPs written since
    // (1 s more per 300 ms). Now: the first BLPOP's 1 s, then 500 ms of waiting (about 6 checks).
    expect(outcomes.at(-1)).toBe('reconnected');
    expect(outcomes.slice(0, -1).every((o) => o === 'TimeoutError')).toBe(true);
    // (A check that failed near its deadline may see its rebuild cut off too: the next invocation connects again.)
    expect(handle.stats).toMatchObject({ pingFailures: 1, connects: 2 });
    expect(await (await handle.get()).ping()).toBe('PONG');
  }, 30_000);

  it('a guard: a later check whose ping queues behind a BLPOP written after the episode began waits for it once an earlier ping is answered (the healthy client is kept)', async () => {
    let clock = 0;
    const handle = redis({ url: server.url, name: `episode-live-${randomUUID().slice(0, 6)}`, idleThresholdMs: 1_000, pingTimeoutMs: 500, now: () => clock });
    const consumer = await handle.get({ signal: AbortSignal.timeout(10_000) });
    const first = consumer.blpop(`episode:${randomUUID()}`, 1);
    clock += 60_000;
    // The first ping waits behind the 1 s BLPOP: cut off at 300 ms, it begins the episode (its grace: 1 s).
    await expect(handle.acquire({ signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' });
    // Written after that ping: it blocks 3 s once the first BLPOP and that ping are answered.
    const second = consumer.blpop(`episode:${randomUUID()}`, 3);
    // This ping's episode bound (1 s + 500 ms) passes while it waits behind the second BLPOP; the first ping was answered by then.
    const lease = await handle.acquire({ signal: AbortSignal.timeout(10_000) });
    expect(lease.state).toBe('revalidated');
    expect(await first).toBeNull();
    expect(await second).toBeNull();
    expect(handle.stats).toMatchObject({ pingFailures: 0, reconnects: 0, connects: 1 });
  }, 30_000);
});

describe('redis(): time between checks (a frozen instance) does not count as unanswered', () => {
  it('a check cut off just before a freeze: the first check after the thaw pings and keeps the client', async () => {
    let clock = 0;
    const handle = redis({ url: server.url, name: `frozen-${randomUUID().slice(0, 6)}`, idleThresholdMs: 1_000, pingTimeoutMs: 1_500, now: () => clock });
    await handle.get({ signal: AbortSignal.timeout(10_000) });
    await admin.client('PAUSE', '2500', 'ALL');
    const pausedAt = Date.now();
    clock += 60_000;
    await expect(handle.acquire({ signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' });
    // Frozen: 120 s on the lifecycle's clock, 1.5 s of real time in which nothing of ours runs and the server answers nothing.
    clock += 120_000;
    await sleep(1_500);
    expect(Date.now() - pausedAt).toBeLessThan(2_200); // the pause still holds: the answer comes after the thaw
    const lease = await handle.acquire({ signal: AbortSignal.timeout(5_000) });
    // Before: the 1.8 s since the first ping counted, past pingTimeoutMs: no ping, a failed check, a rebuild.
    expect(lease.state).toBe('revalidated');
    expect(handle.stats).toMatchObject({ pings: 2, pingFailures: 0, reconnects: 0, connects: 1 });
  }, 30_000);
});
