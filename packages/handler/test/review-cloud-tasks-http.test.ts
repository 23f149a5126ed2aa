/**
 * Review finding: a Cloud Tasks HTTP target task (https://cloud.google.com/tasks/docs/creating-http-target-tasks)
 * reached an HTTP function as a plain `http` request. Cloud Tasks names the task in
 * `X-CloudTasks-QueueName` / `X-CloudTasks-TaskName` (the same on every retry) and counts
 * earlier dispatches in `X-CloudTasks-TaskRetryCount`, but `ctx.deliveryId` was undefined (so
 * idempotency could not dedupe Cloud Tasks' retries), there was no attempt, and a terminal
 * failure under `terminalErrors: 'ack'` was its 4xx, which Cloud Tasks retries (it takes only
 * 200–299 for done). Sent to the real Functions Framework test server, through the root entry
 * and `@steadyfn/handler/gcp`.
 *
 * `fixtures/samples/gcp/fbf-tasks-spec-headers.json`: the Cloud Tasks headers of
 * firebase/firebase-functions `spec/common/providers/tasks.spec.ts` ("should populate context
 * with values from header"), commit 176907afe398b03db71274ff8c27bbe815c136c5 (MIT), unchanged.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { handler, httpError, TerminalError, type Context } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

const published = JSON.parse(readFileSync(new URL('./fixtures/samples/gcp/fbf-tasks-spec-headers.json', import.meta.url), 'utf8')) as Record<string, string>;

/** A task as a queue without a chosen task id dispatches it (the system-generated id is decimal digits). */
const task = (retries: number): Record<string, string> => ({
  'x-cloudtasks-queuename': 'orders',
  'x-cloudtasks-taskname': '40198411409813452051',
  'x-cloudtasks-taskretrycount': String(retries),
  'x-cloudtasks-taskexecutioncount': String(retries),
  'x-cloudtasks-tasketa': '1733412000.123456',
  'user-agent': 'Google-Cloud-Tasks',
});

const entries = { root: handler, gcp: gcpHandler } as const;

describe('Cloud Tasks HTTP target task, to an HTTP function', () => {
  for (const [entry, make] of Object.entries(entries)) {
    it(`${entry} entry: the published headers are a queue message named by its queue and task, attempt = retry count + 1`, async () => {
      const seen: Array<{ input: unknown; ctx: Context }> = [];
      const url = await serve('http', make({ logSink: () => undefined }, (input, ctx) => {
        seen.push({ input, ctx });
        return { done: true };
      }));
      const body = '{"data":{}}';
      const res = await request(url).post('/').set(published).set('content-type', 'application/json').send(body);
      expect(res.status).toBe(200);
      expect(seen).toHaveLength(1);
      const { input, ctx } = seen[0]!;
      expect(input).toEqual({ data: {} });
      expect(ctx.deliveryId).toBe('x/x');
      expect(ctx.trigger).toEqual({ kind: 'queue', source: 'cloud-tasks', queue: 'x', messageId: 'x', attempt: 2, attributes: {}, batchIndex: 0, batchSize: 1 });
      if (ctx.trigger.kind !== 'queue') throw new Error('expected a queue trigger');
      expect(ctx.trigger.rawBody).toEqual(Buffer.from(body, 'utf8'));
    });
  }

  it('a retry keeps the delivery id and counts the attempt; the body is read by its content type', async () => {
    const seen: Context[] = [];
    const inputs: unknown[] = [];
    const url = await serve('http', handler({ logSink: () => undefined }, (input, ctx) => {
      seen.push(ctx);
      inputs.push(input);
      return null;
    }));
    for (const retries of [0, 3]) {
      const res = await request(url).put('/orders/7').set(task(retries)).set('content-type', 'application/x-www-form-urlencoded').send('sku=a&sku=b');
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
    }
    expect(seen.map((ctx) => ctx.deliveryId)).toEqual(['orders/40198411409813452051', 'orders/40198411409813452051']);
    expect(seen.map((ctx) => (ctx.trigger.kind === 'queue' ? ctx.trigger.attempt : ctx.trigger.kind))).toEqual([1, 4]);
    expect(inputs).toEqual([{ sku: ['a', 'b'] }, { sku: ['a', 'b'] }]);
    expect(seen[0]!.requestId).not.toBe(seen[1]!.requestId);
  });

  it('done is any 2xx; a terminal failure is 204 under terminalErrors: ack, its 4xx under fail; a retryable or 2xx-status failure is 500', async () => {
    let thrown: Error = new TerminalError('UNKNOWN_ORDER', 'No such order');
    const fn = (): never => {
      throw thrown;
    };
    const acking = await serve('http', handler({ terminalErrors: 'ack', logSink: () => undefined }, fn));
    const failing = await serve('http', handler({ logSink: () => undefined }, fn));
    const send = (url: string) => request(url).post('/').set(task(0)).set('content-type', 'application/json').send('{"order":7}');
    expect((await send(acking)).status).toBe(204);
    const reported = await send(failing);
    expect(reported.status).toBe(422);
    expect(JSON.parse(reported.text)).toMatchObject({ code: 'UNKNOWN_ORDER' });
    thrown = new Error('downstream down');
    expect((await send(acking)).status).toBe(500);
    thrown = httpError(202, 'LATER', 'Try later', { retryable: true });
    const later = await send(failing);
    expect(later.status).toBe(500);
    expect(JSON.parse(later.text)).toMatchObject({ code: 'LATER' });
  });

  it('without both names (each once, not empty) it stays a plain HTTP request', async () => {
    const seen: Context[] = [];
    const url = await serve('http', handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)));
    const { 'x-cloudtasks-taskname': _name, ...noTaskName } = task(0);
    await request(url).post('/').set(noTaskName).send('{}');
    await request(url).post('/').set({ ...task(0), 'x-cloudtasks-queuename': '' }).send('{}');
    await request(url).post('/').set(task(0)).set('x-cloudtasks-taskname', ['a', 'b']).send('{}');
    expect(seen.map((ctx) => [ctx.trigger.kind, ctx.deliveryId])).toEqual([['http', undefined], ['http', undefined], ['http', undefined]]);
  });
});
