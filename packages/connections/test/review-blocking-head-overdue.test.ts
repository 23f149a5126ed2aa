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

const own = useOwnRedisServer({ afterEachTest: closeAll });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `BLOCKING_REPLY_MARGIN_MS` (src/clients/redis-queue.ts): how long past its timeout a BLPOP may still be answered. */
const MARGIN_MS = 1_000;

const settle = (p: Promise<unknown>) => p.then((ok) => ({ ok }), (err: unknown) => ({ err: (err as { code?: unknown }).code ?? 'error' }));

it('a BLPOP unanswered past its own timeout at the cut-off: the next use pings the client, and a failed ping rebuilds it', async () => {
  const handle = redis({ url: own.url, name: `overdue-${randomUUID().slice(0, 6)}`, pingTimeoutMs: 300, idleThresholdMs: 600_000, connectTimeoutMs: 500 });
  const caller = new AbortController();
  const client = await handle.get({ signal: caller.signal });
  const blocked = client.blpop(`overdue-${randomUUID()}`, 1);
  blocked.catch(() => undefined);
  await sleep(50); // written before the freeze
  own.server.freeze();
  try {
    await sleep(1_000 + MARGIN_MS + 200);
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
  const handle = redis({ url: own.url, name: `within-${randomUUID().slice(0, 6)}`, pingTimeoutMs: 300, idleThresholdMs: 600_000 });
  const caller = new AbortController();
  const client = await handle.get({ signal: caller.signal });
  const blocked = settle(client.blpop(`within-${randomUUID()}`, 2));
  await sleep(200);
  caller.abort(new Error('gave up'));
  expect((await handle.get({ signal: AbortSignal.timeout(3_000) })) === client).toBe(true);
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pings: 0, connects: 1 });
}, 20_000);
