/**
 * A caller gives up (its signal aborts) while the oldest command in flight on the shared client
 * is a BLPOP. Before, a blocking command at the head of the queue never made the client suspect:
 * its silence was taken for a healthy block, even when the BLPOP's own timeout was long past — on
 * a dead socket, a client that nothing would check until the idle threshold. Now a blocking head
 * unanswered past its own timeout (plus a margin) is as suspect as any other command: the next use
 * pings. One still within its timeout stays unsuspected.
 *
 * A redis-server this file starts and freezes (SIGSTOP): nothing answers, as on a dead socket.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { inWindow, sleepUntil } from '../../../test/support/window.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

/**
 * Waits until the server reports a client blocked (this file's server: only our BLPOP blocks), so
 * the command was written and read before the test freezes or cuts off — not a guessed sleep.
 * Returns the epoch ms it was seen: the BLPOP was written no later.
 */
async function blockedOnServer(blocked = true): Promise<number> {
  for (let i = 0; i < 500; i++) {
    if (/blocked_clients:[1-9]/.test(await own.admin.info('clients')) === blocked) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(blocked ? 'the BLPOP never showed up as a blocked client' : 'a BLPOP stayed blocked after its client closed');
}

/** `BLOCKING_REPLY_MARGIN_MS` (src/clients/redis-queue.ts): how long past its timeout a BLPOP may still be answered. */
const MARGIN_MS = 1_000;

const settle = (p: Promise<unknown>) => p.then((ok) => ({ ok }), (err: unknown) => ({ err: (err as { code?: unknown }).code ?? 'error' }));

it('a BLPOP unanswered past its own timeout at the cut-off: the next use pings the client, and a failed ping rebuilds it', async () => {
  const handle = redis({ url: own.url, name: `overdue-${randomUUID().slice(0, 6)}`, pingTimeoutMs: 300, idleThresholdMs: 600_000, connectTimeoutMs: 500 });
  const caller = new AbortController();
  const client = await handle.get({ signal: caller.signal });
  const blocked = client.blpop(`overdue-${randomUUID()}`, 1);
  blocked.catch(() => undefined);
  const writtenBy = await blockedOnServer(); // written (and blocking) before the freeze
  own.server.freeze();
  try {
    // Exactly past its 1 s timeout plus the margin, counted from no earlier than it was written.
    await sleepUntil(writtenBy + 1_000 + MARGIN_MS);
    caller.abort(new Error('gave up'));
    // Before: the same client at once, unchecked (pings 0), its socket as silent as before.
    const next = await settle(handle.get({ signal: AbortSignal.timeout(3_000) }));
    expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, reconnects: 1 });
    expect(next).not.toHaveProperty('ok');
  } finally {
    own.server.thaw();
  }
}, 20_000);

it('a BLPOP still within its own timeout at the cut-off: the client is reused as it is', async () => {
  // The window: the BLPOP's timeout plus the margin, from before it was written. A cut-off that a
  // loaded machine delays past it proves nothing: run again with a longer BLPOP timeout.
  await inWindow([2_000 + MARGIN_MS, 4_000 + MARGIN_MS, 8_000 + MARGIN_MS], async (window) => {
    const timeoutS = (window.ms - MARGIN_MS) / 1_000;
    const handle = redis({ url: own.url, name: `within-${randomUUID().slice(0, 6)}`, pingTimeoutMs: 300, idleThresholdMs: 600_000 });
    const caller = new AbortController();
    const client = await handle.get({ signal: caller.signal });
    const since = Date.now();
    const blocked = settle(client.blpop(`within-${randomUUID()}`, timeoutS));
    await blockedOnServer(); // at the head of the queue, blocking, when the caller gives up
    caller.abort(new Error('gave up'));
    try {
      const next = await handle.get({ signal: AbortSignal.timeout(3_000) });
      window.holds(since, () => {
        expect(next === client).toBe(true);
        expect(handle.stats).toMatchObject({ pings: 0, connects: 1 });
      });
      expect(await blocked).toEqual({ ok: null });
    } finally {
      // A too-late attempt leaves its BLPOP blocking: gone before the next attempt looks for its own.
      await closeAll();
      await blockedOnServer(false);
    }
  });
}, 30_000);
