/**
 * An unanswered episode revived between a check's begin and its cut-off: the check's ping was
 * sent counting from the episode; while it waited, an earlier ping of the episode was answered
 * (the connection answers), and then the deadline cut the check off. The cut-off wrote the old
 * episode back, with its first ping's time, so the next check counted the time since that
 * answered ping and failed: a healthy client rebuilt. Now the cut-off starts a new episode from its
 * own ping. The pings are promises the test answers (a client whose pool answers pings out of
 * order, as MongoDB's does); the lifecycle's arithmetic is pure logic, driven through `makeHandle`.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { makeHandle } from '../src/handle.js';

afterEach(async () => {
  await closeAll();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

it('a check cut off after an earlier ping of its episode was answered leaves an episode counted from its own ping: the next check keeps the client', async () => {
  const pending: Array<() => void> = [];
  let created = 0;
  let clock = 0;
  const handle = makeHandle(
    {
      name: `revived-${randomUUID().slice(0, 6)}`,
      create: async () => ({ id: ++created }),
      ping: () => new Promise<void>((resolve) => pending.push(resolve)),
      isReady: () => true,
      close: async () => undefined,
      idleThresholdMs: 10,
      pingTimeoutMs: 2_000,
      now: () => clock,
    },
    'rv3',
  );
  await handle.get();
  clock += 100;
  // First ping: cut off after 1 200 ms, unanswered.
  await expect(handle.acquire({ signal: AbortSignal.timeout(1_200) })).rejects.toMatchObject({ name: 'TimeoutError' });
  // Second ping: 100 ms in, the first one is answered; the second stays unanswered until its cut-off at 700 ms.
  const second = handle.acquire({ signal: AbortSignal.timeout(700) });
  await sleep(100);
  pending[0]!();
  await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });
  // Third check: its ping is answered 400 ms after it is sent.
  const third = handle.acquire({ signal: AbortSignal.timeout(5_000) });
  await sleep(400);
  for (const answer of pending) answer();
  // Before: the episode came back from its first ping (1 900 ms of 2 000 used), the third ping had
  // about 100 ms and failed, and the client was rebuilt. Now only the second ping's 700 ms count.
  expect((await third).state).toBe('revalidated');
  expect(handle.stats).toMatchObject({ pings: 3, pingFailures: 0, reconnects: 0 });
  expect(created).toBe(1);
}, 20_000);
