/**
 * Review finding: `request.sourceIp` on an ALB and on an OpenWhisk web action was the FIRST
 * `X-Forwarded-For` hop — the one the client writes. An ALB in its default `append` mode
 * (`routing.http.xff_header_processing.mode`, AWS "HTTP headers and Application Load
 * Balancers") appends the address it saw to whatever the client sent, so a client sending
 * `X-Forwarded-For: 10.0.0.1` was reported as 10.0.0.1. Now the last hop, without the port an
 * ALB adds with `routing.http.xff_client_port.enabled`. Replays Powertools TypeScript's published
 * ALB event (test/fixtures/samples/aws/pt-alb-base.json, SOURCES.md there) through the root entry
 * and `@steadyfn/handler/aws`, and an OpenWhisk web request through the controller's own mapping
 * (test/fixtures/openwhisk/controller.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { runOnAwsEntries, sample } from './support/published.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

/** The published ALB request as the ALB passes it on when the client sent `X-Forwarded-For: <sent>`. */
function albWith(forwardedFor: string | undefined) {
  const event = sample('aws', 'pt-alb-base.json');
  if (forwardedFor === undefined) delete event.headers['x-forwarded-for'];
  else event.headers['x-forwarded-for'] = forwardedFor;
  return event;
}

async function albSourceIp(forwardedFor: string | undefined): Promise<string | undefined> {
  const run = await runOnAwsEntries(albWith(forwardedFor));
  const trigger = run.seen[0]!.ctx.trigger;
  if (trigger.kind !== 'http') throw new Error(`not http: ${trigger.kind}`);
  return trigger.request.sourceIp;
}

describe('ALB: sourceIp is the address the ALB appended to X-Forwarded-For', () => {
  it('append mode (the default): a client-written first hop is not the client', async () => {
    // The sample's own header is the ALB's value for a client that sent none.
    expect(await albSourceIp('72.12.164.125')).toBe('72.12.164.125');
    expect(await albSourceIp('10.0.0.1, 72.12.164.125')).toBe('72.12.164.125');
    expect(await albSourceIp('10.0.0.1,192.0.2.4,   72.12.164.125')).toBe('72.12.164.125');
  });

  it('with the client port preserved (routing.http.xff_client_port.enabled): the address without its port', async () => {
    expect(await albSourceIp('10.0.0.1, 72.12.164.125:41234')).toBe('72.12.164.125');
    expect(await albSourceIp('10.0.0.1, [2001:db8::21f:5bff:febf:ce22]:41234')).toBe('2001:db8::21f:5bff:febf:ce22');
    expect(await albSourceIp('2001:db8::17')).toBe('2001:db8::17');
  });

  it('remove mode (no header), or an empty last hop: no sourceIp', async () => {
    expect(await albSourceIp(undefined)).toBeUndefined();
    expect(await albSourceIp('10.0.0.1, ')).toBeUndefined();
  });
});

describe('OpenWhisk web actions: sourceIp is the last X-Forwarded-For hop', () => {
  const saved = process.env.__OW_ACTIVATION_ID;
  beforeEach(() => void (process.env.__OW_ACTIVATION_ID = 'act-forwarded'));
  afterEach(() => {
    if (saved === undefined) delete process.env.__OW_ACTIVATION_ID;
    else process.env.__OW_ACTIVATION_ID = saved;
  });

  for (const raw of [false, true]) {
    it(`${raw ? 'raw' : 'plain'} web action: the hop a proxy in front appended, not the client-written first one`, async () => {
      const seen: Context[] = [];
      const params = controllerParams({ method: 'GET', headers: { 'X-Forwarded-For': '10.0.0.1, 198.51.100.23' } }, raw);
      await handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)).openwhisk(params);
      const trigger = seen[0]!.trigger;
      if (trigger.kind !== 'http') throw new Error(`not http: ${trigger.kind}`);
      expect(trigger.request.sourceIp).toBe('198.51.100.23');
    });
  }
});
