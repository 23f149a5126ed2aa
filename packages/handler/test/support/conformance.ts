/**
 * Sends a Functions Framework conformance input (test/fixtures/samples/gcp/ffc-*.json) every
 * way the suite does — to a CloudEvent function and to a background function of the real
 * framework, through the root entry and `@steadyfn/handler/gcp` — and checks every way gave the
 * same status, trigger, input and delivery id.
 */
import { expect } from 'vitest';
import { handler, type Context } from '../../src/index.js';
import { handler as gcpHandler } from '../../src/gcp.js';
import { serve, serveBackground } from './gcp-server.js';
import { recorder, sample } from './published.js';

/** The conformance suite's event id. */
export const CONFORMANCE_ID = 'aaaaaa-1111-bbbb-2222-cccccccccccc';

/** The trigger every legacy Realtime Database input of the suite gives, before `op` and `time`. */
export const CONFORMANCE_RTDB = { kind: 'change', source: 'firebase-rtdb', collection: 'gcf-test', key: 'gcf-test/xyz', sequence: undefined, batchIndex: 0, batchSize: 1 };

/** What the function saw (the same every way), once the framework answered 204. Call `closeServers` after the suite. */
export async function everyWay(file: string, signatures: ReadonlyArray<'cloudEvent' | 'event'> = ['cloudEvent', 'event']): Promise<{ input: unknown; ctx: Context }> {
  const fixture = sample('gcp', file);
  const contentType = typeof fixture.specversion === 'string' ? 'application/cloudevents+json' : 'application/json';
  const runs: Array<{ how: string; status: number; seen: Array<{ input: unknown; ctx: Context }> }> = [];
  for (const entry of ['root', 'gcp'] as const) {
    for (const signature of signatures) {
      const { seen, fn } = recorder();
      const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : gcpHandler({ logSink: () => undefined }, fn);
      const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(fixture) });
      await res.arrayBuffer();
      runs.push({ how: `${entry}/${signature}`, status: res.status, seen });
    }
  }
  const view = (r: (typeof runs)[0]) => ({ status: r.status, seen: r.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId]) });
  for (const run of runs.slice(1)) expect({ how: run.how, ...view(run) }).toEqual({ how: run.how, ...view(runs[0]!) });
  expect(runs[0]!.status).toBe(204);
  expect(runs[0]!.seen).toHaveLength(1);
  return runs[0]!.seen[0]!;
}
