/**
 * A ping grace counted from the ping itself (Mongo's wait for the driver's monitor, `monitorWaitMs`:
 * 2 × minHeartbeatFrequencyMS while no server can take the ping) was read again at every check and
 * counted from that check: the bound of the unanswered episode (`blockedUntil`) moved later with
 * each one, so under deadlines shorter than `pingTimeoutMs` + the grace (a 2 s Lambda timeout
 * leaves 1.5 s) a client whose server is really gone was never rebuilt — every invocation failed
 * with DEADLINE_EXCEEDED. The grace now counts from the episode's first cut-off ping: once
 * `pingTimeoutMs` + grace of unanswered pinging has passed, the check fails and the client is rebuilt.
 * The ping is a hung promise here (a server that is really gone, as the client sees it); the
 * lifecycle's arithmetic is pure logic, driven through `makeHandle` and the Lambda adapter.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { makeHandle } from '../src/handle.js';
import { apiGatewayV2 } from '../../../test/support/events.js';

afterEach(async () => {
  await closeAll();
});

/** A client whose pings never answer; `created` counts the clients built. */
function hungClient(name: string) {
  const made = { created: 0 };
  const spec = {
    name,
    create: async () => ({ id: ++made.created }),
    ping: () => new Promise<void>(() => undefined),
    isReady: () => true,
    close: async () => undefined,
  };
  return { spec, made };
}

describe('a ping grace counted from the ping (the driver monitor wait) under short deadlines', () => {
  it('is counted from the episode’s first cut-off ping: checks cut off at 400 ms end in a reconnect, not in DEADLINE for good', async () => {
    const { spec, made } = hungClient(`grace-${randomUUID().slice(0, 6)}`);
    let clock = 0;
    const handle = makeHandle({ ...spec, idleThresholdMs: 10, pingTimeoutMs: 1_000, now: () => clock }, 'rv2', { pingGraceMs: () => 1_000 });
    await handle.get();
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      clock += 100;
      try {
        const lease = await handle.acquire({ signal: AbortSignal.timeout(400) });
        outcomes.push(lease.state);
        break;
      } catch (err) {
        outcomes.push((err as Error).name);
      }
    }
    // Before: 12 × TimeoutError (each check pushed the grace 1 s past itself). Now: cut off while
    // 1 000 + 1 000 ms since the first ping have not passed (measured: 5 checks of 400 ms), then a failed check.
    expect(outcomes.at(-1)).toBe('reconnected');
    expect(outcomes.slice(0, -1).every((o) => o === 'TimeoutError')).toBe(true);
    // The first check, given 2 000 ms, is always cut off by its 400 ms signal.
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    expect(handle.stats).toMatchObject({ pingFailures: 1, reconnects: 1 });
    expect(made.created).toBe(2);
  });

  it('a grace that first applies at a later check of the episode is counted from that check, once', async () => {
    const { spec, made } = hungClient(`grace-late-${randomUUID().slice(0, 6)}`);
    let clock = 0;
    let reads = 0;
    // The first ping went to a server that looked selectable (no grace); by the next check the driver saw it fail (monitor wait).
    const handle = makeHandle({ ...spec, idleThresholdMs: 10, pingTimeoutMs: 1_000, now: () => clock }, 'rv2', { pingGraceMs: () => (reads++ === 0 ? 0 : 1_000) });
    await handle.get();
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      clock += 100;
      try {
        outcomes.push((await handle.acquire({ signal: AbortSignal.timeout(400) })).state);
        break;
      } catch (err) {
        outcomes.push((err as Error).name);
      }
    }
    // Before: 12 × TimeoutError, as above.
    expect(outcomes.at(-1)).toBe('reconnected');
    expect(outcomes.slice(0, -1).every((o) => o === 'TimeoutError')).toBe(true);
    expect(handle.stats).toMatchObject({ pingFailures: 1, reconnects: 1 });
    expect(made.created).toBe(2);
  });

  it('through the Lambda adapter with a 900 ms budget (the check cut off at 400 ms): a later invocation runs on a rebuilt client', async () => {
    const { spec, made } = hungClient(`grace-lambda-${randomUUID().slice(0, 6)}`);
    // A monitor wait of 1 s while no server can take the ping (the driver's defaults), on every check.
    const handle = makeHandle({ ...spec, idleThresholdMs: 0, pingTimeoutMs: 1_000 }, 'rv2', { pingGraceMs: () => 1_000 });
    const main = handler({ use: [connections({ svc: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) => ({
      state: connectionsRecord(ctx)?.svc?.state,
    }));
    const invoke = async (budgetMs: number) => {
      const deadline = Date.now() + budgetMs;
      const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
      const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
      return { status: res.statusCode, ...(JSON.parse(res.body) as { code?: string; state?: string }) };
    };
    expect(await invoke(10_000)).toMatchObject({ status: 200, state: 'new' });
    const outcomes: Array<{ status: number; code?: string; state?: string }> = [];
    for (let i = 0; i < 12; i++) {
      // The next invocation arrives from I/O, as on a platform.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const answer = await invoke(900);
      outcomes.push(answer);
      if (answer.status === 200) break;
    }
    // Before: 12 × 504 DEADLINE_EXCEEDED, the dead client kept for good.
    expect(outcomes.slice(0, -1).every((o) => o.status === 504 && o.code === 'DEADLINE_EXCEEDED')).toBe(true);
    // Its label is `reconnected`, or `new`/`reused` when a deadline cut off the invocation that rebuilt it.
    expect(outcomes.at(-1)).toMatchObject({ status: 200 });
    expect(handle.stats).toMatchObject({ pingFailures: 1 });
    expect(made.created).toBeGreaterThanOrEqual(2);
  });
});
