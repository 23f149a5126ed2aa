/**
 * A handle watches each signal its clients were handed out under (see
 * review-handed-out-cut-off.test.ts). It kept every client handed out under a signal in a set for
 * as long as that signal lived: in a long-lived process whose callers share one signal (a
 * worker's shutdown signal passed to every `get`), each client rebuilt or closed since stayed
 * referenced — with its socket objects, buffers and listeners — for the life of the process. Now
 * a signal's watch holds its clients weakly: a client the handle dropped can be collected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

afterEach(async () => {
  await closeAll();
});

it('clients handed out under one long-lived signal and dropped by the handle are not kept alive by its watch', async () => {
  const handle = redis({ url: process.env.REDIS_URL!, name: `long-signal-${randomUUID()}`, idleThresholdMs: 600_000 });
  const shutdown = new AbortController(); // lives as long as the process
  const dropped: WeakRef<object>[] = [];
  // In a function of its own: no reference to a client stays in this test's frame.
  const useAndDrop = async (): Promise<void> => {
    const client = await handle.get({ signal: shutdown.signal });
    expect(await client.ping()).toBe('PONG');
    dropped.push(new WeakRef(client));
    await handle.close(); // the next get() builds a new client
  };
  for (let i = 0; i < 3; i++) await useAndDrop();
  const last = await handle.get({ signal: shutdown.signal });
  // Collection is not immediate: a few rounds of gc with turns of the event loop in between.
  for (let round = 0; round < 20 && dropped.some((ref) => ref.deref() !== undefined); round++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
  }
  // Before: all 3 dropped clients still referenced by the watch of `shutdown`.
  expect(dropped.map((ref) => ref.deref() !== undefined)).toEqual([false, false, false]);
  expect(await last.ping()).toBe('PONG');
  expect(shutdown.signal.aborted).toBe(false);
}, 30_000);
