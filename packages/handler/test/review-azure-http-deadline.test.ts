/**
 * Review finding: on Azure Functions an HTTP-triggered invocation has 230 seconds to answer,
 * whatever `functionTimeout` says — "Regardless of the function app timeout setting, 230
 * seconds is the maximum amount of time that an HTTP triggered function can take to respond to
 * a request. This is because of the default idle timeout of Azure Load Balancer" (Azure docs,
 * "Function app timeout duration"; HTTP trigger, "Limits"). The adapter put every invocation's
 * deadline at `timeoutMs` from the start (default 5 minutes, as the docs ask: "set it to your
 * functionTimeout"), so `ctx.signal` aborted and `DEADLINE_EXCEEDED` was answered only after the
 * load balancer had already given the client its error: a function working past 230 s never
 * learned to stop, and its answer went nowhere. An HTTP invocation's deadline is now at most
 * 230 s from the start; other triggers keep `timeoutMs`.
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts). The bounds below bracket the deadline between the clock read
 * before and after the invocation: no timing is asserted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const HTTP_LIMIT_MS = 230_000;
const request = (name: string) => ({ http: { method: 'GET', url: `http://localhost:7071/api/${name}`, headers: {}, query: {}, params: {} } });

async function deadlineOf(register: (main: unknown) => void, run: () => Promise<unknown>, timeoutMs?: number): Promise<{ deadline: number; before: number; after: number }> {
  const { handler } = await import('../src/index.js');
  const seen: Context[] = [];
  register(handler({ logSink: () => undefined, ...(timeoutMs === undefined ? {} : { timeoutMs }) }, (_input, ctx) => void seen.push(ctx)));
  const before = Date.now();
  await run();
  const after = Date.now();
  expect(seen).toHaveLength(1);
  return { deadline: seen[0]!.deadline, before, after };
}

describe('Azure Functions: the HTTP trigger answers within 230 s whatever functionTimeout is', () => {
  it.each([
    ['the default timeoutMs (5 minutes)', undefined],
    ['timeoutMs of 30 minutes (Premium / Flex default functionTimeout)', 30 * 60_000],
  ])('an HTTP invocation with %s has its deadline 230 s from the start', async (_label, timeoutMs) => {
    const { app } = await import('@azure/functions');
    const name = `http-deadline-${timeoutMs ?? 'default'}`;
    const { deadline, before, after } = await deadlineOf(
      (main) => app.http(name, { methods: ['GET'], authLevel: 'anonymous', handler: main as never }),
      () => worker.respond(name, `inv-${name}`, {}, request(name)),
      timeoutMs,
    );
    expect(deadline).toBeGreaterThanOrEqual(before + HTTP_LIMIT_MS);
    expect(deadline).toBeLessThanOrEqual(after + HTTP_LIMIT_MS);
  });

  it('a shorter timeoutMs still wins on HTTP', async () => {
    const { app } = await import('@azure/functions');
    const { deadline, before, after } = await deadlineOf(
      (main) => app.http('http-deadline-short', { methods: ['GET'], authLevel: 'anonymous', handler: main as never }),
      () => worker.respond('http-deadline-short', 'inv-short', {}, request('http-deadline-short')),
      60_000,
    );
    expect(deadline).toBeGreaterThanOrEqual(before + 60_000);
    expect(deadline).toBeLessThanOrEqual(after + 60_000);
  });

  it('(control) a queue message keeps timeoutMs: the 230 s are the HTTP front end\'s', async () => {
    const { app } = await import('@azure/functions');
    const { deadline, before } = await deadlineOf(
      (main) => app.storageQueue('queue-deadline', { connection: 'AzureWebJobsStorage', queueName: 'jobs', handler: main as never }),
      () => worker.invoke('queue-deadline', 'inv-q', { Id: { string: 'q-1' }, DequeueCount: { json: '1' }, PopReceipt: { string: 'AgAAAAMAAAA' } }, { string: 'job' }),
      30 * 60_000,
    );
    expect(deadline).toBeGreaterThanOrEqual(before + 30 * 60_000);
  });
});
