/**
 * Review finding: the span attribute `faas.cron` held `ctx.trigger.schedule`, which is an
 * EventBridge rule ARN, a Cloud Scheduler job name or an Azure function name — never a cron
 * expression. OpenTelemetry's FaaS conventions define `faas.cron` as "the schedule period as
 * Cron Expression" (https://opentelemetry.io/docs/specs/semconv/faas/faas-spans/, e.g.
 * `0/5 * * * ? *`). Only the Azure timer tells the function its expression (the binding's
 * `schedule`, an NCRONTAB expression, on `context.options.trigger`); EventBridge sends the
 * rule's ARN, Cloud Scheduler the job's name. The conventions have no attribute for a schedule's
 * name, so it goes under the wrapper's own namespace, `steadyfn.schedule`.
 * Shown on each provider's real path: both AWS entries with the published scheduled-rule shape,
 * a Cloud Scheduler HTTP call to the real Functions Framework, and `@azure/functions`'
 * `InvocationContext` with `trigger.timer`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { handler, type Context } from '../src/index.js';
import { invocationAttributes } from '../src/trace/semconv.js';
import { closeServers, serve } from './support/gcp-server.js';
import { invocationContext } from './support/azure.js';
import { published, recorder, runOnAwsEntries } from './support/published.js';

afterAll(closeServers);

describe('faas.cron is a cron expression or absent', () => {
  it('EventBridge scheduled rule: no faas.cron (the event names the rule, not its expression); the ARN is steadyfn.schedule', async () => {
    const run = await runOnAwsEntries(published('aws', 'eventbridge-scheduled.json'));
    const attributes = invocationAttributes(run.seen[0]!.ctx);
    expect(attributes['faas.cron']).toBeUndefined();
    expect(attributes['steadyfn.schedule']).toBe('arn:aws:events:eu-west-1:210987654321:rule/nightly');
    expect(attributes['faas.time']).toBe('2025-03-02T03:00:00Z');
  });

  it('Cloud Scheduler HTTP target: no faas.cron; the job name is steadyfn.schedule', async () => {
    const { seen, fn } = recorder();
    const url = await serve('http', handler({ gcpSchedulerHttp: true, logSink: () => undefined }, fn));
    const job = 'projects/p/locations/us-central1/jobs/nightly';
    const headers = { 'content-type': 'application/json', 'x-cloudscheduler': 'true', 'x-cloudscheduler-jobname': job, 'x-cloudscheduler-scheduletime': '2025-03-02T03:00:00.000Z' };
    const res = await fetch(url, { method: 'POST', headers, body: '{}' });
    await res.arrayBuffer();
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'schedule', source: 'cloud-scheduler', schedule: job });
    const attributes = invocationAttributes(seen[0]!.ctx);
    expect(attributes['faas.cron']).toBeUndefined();
    expect(attributes['steadyfn.schedule']).toBe(job);
  });

  async function azureTick(schedule: string): Promise<Context> {
    const seen: Context[] = [];
    const fn = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    const timer = { schedule: { adjustForDST: true }, scheduleStatus: { last: '2016-10-04T10:15:00+00:00', lastUpdated: '2016-10-04T10:16:00+00:00', next: '2016-10-04T10:20:00+00:00' }, isPastDue: false };
    await fn(timer, invocationContext({ invocationId: 'inv-c1', functionName: 'every5', triggerMetadata: {} }, trigger.timer({ schedule })));
    return seen[0]!;
  }

  it('Azure timer with an NCRONTAB schedule: faas.cron is the expression, trigger.cron too; the function name is steadyfn.schedule', async () => {
    const ctx = await azureTick('0 */5 * * * *');
    expect(ctx.trigger).toMatchObject({ kind: 'schedule', source: 'azure-timer', schedule: 'every5', cron: '0 */5 * * * *' });
    const attributes = invocationAttributes(ctx);
    expect(attributes['faas.cron']).toBe('0 */5 * * * *');
    expect(attributes['steadyfn.schedule']).toBe('every5');
  });

  it.each([
    ['a TimeSpan (App Service plans)', '00:05:00'],
    ['an app setting the host resolves', '%TimerSchedule%'],
  ])('Azure timer with %s: no cron, no faas.cron', async (_what, schedule) => {
    const ctx = await azureTick(schedule);
    expect(ctx.trigger).not.toHaveProperty('cron');
    expect(invocationAttributes(ctx)['faas.cron']).toBeUndefined();
  });
});
