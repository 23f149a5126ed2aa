/**
 * Review finding: an OpenWhisk web action's request had no `sourceIp`, although a client address
 * may reach the action in `__ow_headers['x-forwarded-for']` (the controller passes the request
 * headers through). Apache OpenWhisk's own edge nginx sets no X-Forwarded-For
 * (apache/openwhisk `ansible/roles/nginx/templates/nginx.conf.j2`, openwhisk-deploy-kube
 * `nginx-cm.yaml`), so the header is what the client sent plus what a proxy the deployment puts
 * in front appends: `sourceIp` is its last hop (review-forwarded-source-ip.test.ts), and only
 * when the header is there. Run through the controller's own mapping of a request
 * (test/fixtures/openwhisk/controller.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

const saved = process.env.__OW_ACTIVATION_ID;
beforeEach(() => void (process.env.__OW_ACTIVATION_ID = 'act-source-ip'));
afterEach(() => {
  if (saved === undefined) delete process.env.__OW_ACTIVATION_ID;
  else process.env.__OW_ACTIVATION_ID = saved;
});

async function requestOf(params: Record<string, unknown>) {
  const seen: Context[] = [];
  await handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)).openwhisk(params);
  const trigger = seen[0]!.trigger;
  if (trigger.kind !== 'http') throw new Error(`not http: ${trigger.kind}`);
  return trigger.request;
}

describe('OpenWhisk web actions: sourceIp from X-Forwarded-For', () => {
  for (const raw of [false, true]) {
    it(`${raw ? 'raw' : 'plain'} web action: the last hop, trimmed`, async () => {
      const params = controllerParams({ method: 'POST', contentType: 'application/json', body: '{"name":"Jane"}', headers: { 'X-Forwarded-For': '10.0.0.1, 10.10.0.4, 203.0.113.9 ' } }, raw);
      expect((await requestOf(params)).sourceIp).toBe('203.0.113.9');
    });

    it(`${raw ? 'raw' : 'plain'} web action: an IPv6 client`, async () => {
      const params = controllerParams({ method: 'GET', headers: { 'x-forwarded-for': '2001:db8::17' } }, raw);
      expect((await requestOf(params)).sourceIp).toBe('2001:db8::17');
    });

    it(`${raw ? 'raw' : 'plain'} web action: no header, or an empty one — no sourceIp`, async () => {
      expect(await requestOf(controllerParams({ method: 'GET' }, raw))).not.toHaveProperty('sourceIp');
      expect(await requestOf(controllerParams({ method: 'GET', headers: { 'x-forwarded-for': ' ' } }, raw))).not.toHaveProperty('sourceIp');
    });
  }
});
