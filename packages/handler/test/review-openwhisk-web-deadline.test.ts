/**
 * Review finding (s52, rvw): an OpenWhisk web action's deadline was `__OW_DEADLINE` — the
 * action's own timeout, up to 5 minutes by default — but the controller waits only
 * `maxWaitForBlockingActivation` (default 60 s; apache/openwhisk `WebActions.scala`,
 * `maxWaitForWebActionResult`) for a web action's result, then answers the client `202`
 * "Response not yet ready." — a success status, never retried, the function's answer lost. A
 * function working past 60 s never learned to stop. A web activation's deadline is now at most
 * `openwhiskWebTimeoutMs` (default 60000) from its start; other activations keep `__OW_DEADLINE`.
 *
 * The bounds bracket the deadline between the clock read before and after the call: no timing
 * is asserted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';

const WEB = { __ow_method: 'get', __ow_headers: {}, __ow_path: '' };
const saved = { deadline: process.env.__OW_DEADLINE, id: process.env.__OW_ACTIVATION_ID };
beforeEach(() => void (process.env.__OW_ACTIVATION_ID = 'act-web-deadline'));
afterEach(() => {
  for (const [name, value] of [['__OW_DEADLINE', saved.deadline], ['__OW_ACTIVATION_ID', saved.id]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function clockOf(params: Record<string, unknown>, owDeadline: number | undefined, options: Record<string, unknown> = {}) {
  if (owDeadline === undefined) delete process.env.__OW_DEADLINE;
  else process.env.__OW_DEADLINE = String(owDeadline);
  const seen: Array<{ deadline: number; remaining: number }> = [];
  const main = handler({ logSink: () => undefined, ...options }, (_input, ctx: Context) => void seen.push({ deadline: ctx.deadline, remaining: ctx.remainingMs() }));
  const before = Date.now();
  await main.openwhisk(params);
  const after = Date.now();
  expect(seen).toHaveLength(1);
  return { ...seen[0]!, before, after };
}

describe('OpenWhisk web actions: the deadline is the controller’s wait, not the action timeout', () => {
  it('__OW_DEADLINE 300 s away: a web activation has at most 60 s (ctx.remainingMs() ≤ 60000)', async () => {
    const { deadline, remaining, before, after } = await clockOf(WEB, Date.now() + 300_000);
    expect(remaining).toBeLessThanOrEqual(60_000);
    expect(deadline).toBeGreaterThanOrEqual(before + 60_000);
    expect(deadline).toBeLessThanOrEqual(after + 60_000);
  });

  it('without __OW_DEADLINE a web activation still has 60 s', async () => {
    const { deadline, before, after } = await clockOf(WEB, undefined);
    expect(deadline).toBeGreaterThanOrEqual(before + 60_000);
    expect(deadline).toBeLessThanOrEqual(after + 60_000);
  });

  it('an __OW_DEADLINE earlier than 60 s is kept', async () => {
    const owDeadline = Date.now() + 20_000;
    expect((await clockOf(WEB, owDeadline)).deadline).toBe(owDeadline);
  });

  it('a plain (non-web) activation keeps __OW_DEADLINE', async () => {
    const owDeadline = Date.now() + 300_000;
    expect((await clockOf({ orderId: 'o-1' }, owDeadline)).deadline).toBe(owDeadline);
  });

  it('openwhiskWebTimeoutMs: a controller set to wait 120 s gives 120 s', async () => {
    const { deadline, before, after } = await clockOf(WEB, Date.now() + 300_000, { openwhiskWebTimeoutMs: 120_000 });
    expect(deadline).toBeGreaterThanOrEqual(before + 120_000);
    expect(deadline).toBeLessThanOrEqual(after + 120_000);
  });

  it.each([0, -1, 1.5, '60000', Number.POSITIVE_INFINITY])('openwhiskWebTimeoutMs %s is refused with CONFIG_INVALID', (value) => {
    expect(() => handler({ openwhiskWebTimeoutMs: value as number }, () => undefined)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('a web action still working at its deadline is answered DEADLINE_EXCEEDED (504), not left to the controller’s 202', async () => {
    process.env.__OW_DEADLINE = String(Date.now() + 300_000);
    const main = handler({ logSink: () => undefined, openwhiskWebTimeoutMs: 1_000, deadlineMarginMs: 500 }, async (_input, ctx) => {
      // Waits for the abort (a state), not for a duration.
      if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      return { late: true };
    });
    // A web action's error answer is `{ error: { statusCode, headers, body } }` (the controller sends it as the response).
    const result = (await main.openwhisk(WEB)) as { error?: { statusCode?: number; body?: { code?: string } } };
    expect(result.error?.statusCode).toBe(504);
    expect(result.error?.body?.code).toBe('DEADLINE_EXCEEDED');
  });
});
