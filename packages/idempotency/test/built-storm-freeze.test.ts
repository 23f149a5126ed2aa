/**
 * The joined storm of built-storm.test.ts with the redis-server frozen (SIGSTOP: connections
 * stay open, nothing answers — a hung server or a partition) for longer than a lease, then
 * thawed, while six function instances (the built packages, @steadyfn/connections' cached
 * client) answer concurrent duplicate POSTs. Claims and completions sent during the freeze wait
 * in the server's sockets; the invocations answer 504 DEADLINE_EXCEEDED at their deadline (none
 * hangs: a hang fails the test at its timeout); after the thaw the server runs what waited, and
 * a retry may take a key over whose lease ran out meanwhile. Every key must still be charged
 * once, by its highest fence; every caller of a key gets one body; every instance answers 200
 * after the thaw (no cached client left dead).
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../../../test/support/wait.js';
import { expectCleanAnswers, joinedFailuresAt, readLog, sleep, storm, stormRig } from './built-storm-fleet.js';

const INSTANCES = 6;
const CALLERS = 3;
/** Short (CI time): the freeze outlasts it, so keys frozen mid-invocation are taken over after the thaw. */
const LEASE_MS = 2_000;
const DEADLINE_MS = 3_000;
const FROZEN_MS = LEASE_MS + 1_500;

const start = stormRig('built-storm-freeze', { leaseMs: LEASE_MS, deadlineMs: DEADLINE_MS });

describe('storm on the built packages, redis-server (appendfsync always) frozen past the lease and thawed', () => {
  it('joined effect: each key charged once, by its highest fence; answers typed; instances healthy after the thaw', async () => {
    const { env, fleet, server } = await start(INSTANCES, { STORM_EFFECT: 'joined' });
    const outcome = await storm(fleet, CALLERS, 12, async () => {
      // Freeze while functions run, between their claims and their completions.
      await eventually(() => fleet.instances.some((i) => i.running > 0), 20_000, 5);
      server.freeze();
      await sleep(FROZEN_MS);
      server.thaw();
      await sleep(700 + Math.random() * 400);
    });
    const settles = readLog(env.STORM_LOG);
    const failures = await joinedFailuresAt(server.url, outcome.keys, settles);
    const takenOver = outcome.keys.filter((key) => settles.some((s) => s.key === key && (s.fence ?? 0) > 1)).length;
    console.log(`freeze storm: ${outcome.keys.length} keys × ${CALLERS} callers, ${takenOver} keys settled by a takeover, retryable answers ${JSON.stringify(Object.fromEntries(outcome.retried))}, ${settles.length} settle attempts`);
    expect(failures).toEqual([]);
    expect(outcome.retried.get('DEADLINE_EXCEEDED') ?? 0, 'invocations frozen past their deadline answered it').toBeGreaterThan(0);
    await expectCleanAnswers(fleet, outcome, CALLERS);
  }, 60_000);
});
