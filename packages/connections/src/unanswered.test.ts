/**
 * The unanswered-ping account measures each check's wait on the monotonic clock: a wall-clock
 * step (NTP, a VM resumed) between a ping and its cut-off neither erases the wait (a step back
 * kept a dead socket for as long as the step) nor invents one (a step forward failed a healthy
 * client's next check). `Date.now` is stepped here; the real time between is a short sleep.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UnansweredPings } from './unanswered.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const realNow = Date.now.bind(Date);

/** Steps `Date.now` by `ms` from now on. */
function stepWallClock(ms: number): void {
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('UnansweredPings under a wall-clock step', () => {
  const entry = { client: 'c' };

  it('a step back of 1 h during a cut-off ping: its wait still counts', async () => {
    const pings = new UnansweredPings<typeof entry>(1_000);
    const first = pings.begin(entry, () => 0);
    stepWallClock(-3_600_000);
    await sleep(60);
    pings.cutOff(entry, first);
    const next = pings.begin(entry, () => 0);
    expect(next.countedMs).toBeGreaterThanOrEqual(50);
    expect(next.countedMs).toBeLessThan(1_000);
    expect(next.leftMs).toBeLessThanOrEqual(950);
  });

  it('a step forward of 60 s during a cut-off ping: the next check is not failed for it', async () => {
    const pings = new UnansweredPings<typeof entry>(1_000);
    const first = pings.begin(entry, () => 0);
    stepWallClock(60_000);
    await sleep(20);
    pings.cutOff(entry, first);
    const next = pings.begin(entry, () => 0);
    expect(next.countedMs).toBeLessThan(500);
    expect(next.leftMs).toBeGreaterThan(500);
  });

  it('a step forward of 60 s while a ping waits: what is left of its own bound is not used up', () => {
    const pings = new UnansweredPings<typeof entry>(1_000);
    const budget = pings.begin(entry, () => 200);
    stepWallClock(60_000);
    const left = pings.ownLeftMs(budget);
    expect(left).toBeGreaterThan(1_000);
    expect(left).toBeLessThanOrEqual(1_200);
  });
});

describe('the grace clock', () => {
  const entry = { client: 'c' };

  it("a freeze between two checks does not use up a `waited` grace (the driver's pacing stops with the instance); it does an `elapsed` one (the server's timeouts run on)", () => {
    for (const [clock, expected] of [
      ['waited', 1_000 - 200 + 1_000],
      ['elapsed', 1_000],
    ] as const) {
      let t = 5_000;
      const pings = new UnansweredPings<typeof entry>(1_000, clock, () => t);
      const first = pings.begin(entry, () => 1_000);
      expect(first.leftMs).toBe(2_000);
      t += 200;
      pings.cutOff(entry, first);
      t += 600_000; // frozen for 10 min between the checks
      const next = pings.begin(entry, () => 1_000);
      expect([clock, next.leftMs]).toEqual([clock, expected]);
    }
  });

  it('on the `waited` clock, time waited past the grace counts as on the other, and a later grace does not move the bound', () => {
    let t = 0;
    const pings = new UnansweredPings<typeof entry>(1_000, 'waited', () => t);
    const first = pings.begin(entry, () => 1_000);
    t += 1_300; // 300 ms past the grace
    pings.cutOff(entry, first);
    t += 60_000;
    const second = pings.begin(entry, () => 5_000);
    expect(second.countedMs).toBe(300);
    expect(second.leftMs).toBe(700);
    t += 700;
    expect(pings.ownLeftMs(second)).toBe(5_000 + 1_000 - 700);
    pings.cutOff(entry, second);
    expect(pings.begin(entry, () => 1_000).leftMs).toBe(0); // 1 000 ms past the grace in all: a failed check
  });
});
