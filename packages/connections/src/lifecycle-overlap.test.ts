/**
 * Two thaw checks that overlap: a caller gives up on a check (its signal aborts: the check is no
 * longer joinable) and another caller starts one at once, before the first has recorded its cut-off
 * ping (a few microtasks later). Before, the second took its budget from the account without the
 * first ping's wait, and its own cut-off then replaced the account with its own wait alone: the
 * first ping's wait was lost, so the third check had the whole `pingTimeoutMs` again less only the
 * second's wait. Now a check waits for a settling one first. Pure logic: a scripted client whose
 * ping never answers.
 */
import { afterEach, expect, it } from 'vitest';
import { closeAll } from './registry.js';
import { defineClient } from './handle.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  await closeAll();
});

it("a check begun while a given-up one settles counts that one's wait: the episode's third check fails on time", async () => {
  let clock = 0;
  let made = 0;
  const handle = defineClient({
    name: 'overlap',
    create: async () => ({ id: ++made }),
    ping: () => new Promise<never>(() => undefined), // a silently dead socket
    pingTimeoutMs: 1_000,
    idleThresholdMs: 1_000,
    now: () => clock,
  });
  await handle.get();
  clock += 2_000; // idle past the threshold: the next use checks
  const first = new AbortController();
  const a = handle.acquire({ signal: first.signal });
  a.catch(() => undefined);
  await sleep(600);
  first.abort(new Error('gave up'));
  const second = new AbortController();
  const b = handle.acquire({ signal: second.signal }); // at once: the first check has not settled yet
  b.catch(() => undefined);
  await sleep(300);
  second.abort(new Error('gave up'));
  await sleep(20);
  // 900 ms of the 1 000 waited unanswered: the third ping has about 100 ms. Before: about 700 ms
  // (the first check's 600 ms lost), so a caller with 400 ms was cut off with no verdict.
  const third = await handle.acquire({ signal: AbortSignal.timeout(400) });
  expect(third.state).toBe('reconnected');
  // Pings 3, or 2 when a loaded machine let the first two wait the whole 1 000 ms already.
  expect(handle.stats).toMatchObject({ pingFailures: 1, reconnects: 1 });
});
