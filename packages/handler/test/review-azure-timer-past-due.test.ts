/**
 * Review finding: an Azure timer trigger's `isPastDue` (the host ran the occurrence late, e.g.
 * after the app was down) and its `scheduleStatus` (`last`, `next`, `lastUpdated`, present when
 * the schedule monitor is on) were dropped: `ctx.trigger` had no field for them. The timer
 * object is the Node.js v4 programming model's `Timer` (learn.microsoft.com "Timer trigger for
 * Azure Functions", and the payload of Azure/azure-functions-python-worker#858), run with the
 * real `@azure/functions` `InvocationContext` and `trigger.timer` options through the root and
 * `@steadyfn/handler/azure`.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { handler, type Context } from '../src/index.js';
import { handler as azureHandler } from '../src/azure.js';
import { invocationContext } from './support/azure.js';

async function both(timer: unknown, functionName: string): Promise<Context[]> {
  const seen: Context[] = [];
  for (const make of [handler, azureHandler]) {
    const fn = make({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    await fn(structuredClone(timer), invocationContext({ invocationId: `inv-${seen.length}`, functionName, triggerMetadata: {} }, trigger.timer({ schedule: '0 */5 * * * *' })));
  }
  expect(seen).toHaveLength(2);
  expect(seen[1]!.trigger).toEqual(seen[0]!.trigger);
  return seen;
}

describe('Azure timer: isPastDue and scheduleStatus on the schedule trigger', () => {
  it('a past-due tick says so, with the schedule status the host sent', async () => {
    const timer = { schedule: { adjustForDST: true }, scheduleStatus: { last: '2016-10-04T10:15:00+00:00', lastUpdated: '2016-10-04T10:16:00+00:00', next: '2016-10-04T10:20:00+00:00' }, isPastDue: true };
    const [ctx] = await both(timer, 'every5');
    expect(ctx!.trigger).toEqual({
      kind: 'schedule',
      source: 'azure-timer',
      schedule: 'every5',
      cron: '0 */5 * * * *',
      scheduledTime: '2016-10-04T10:20:00+00:00',
      pastDue: true,
      scheduleStatus: { last: '2016-10-04T10:15:00+00:00', next: '2016-10-04T10:20:00+00:00', lastUpdated: '2016-10-04T10:16:00+00:00' },
    });
  });

  it('a tick on time without a schedule monitor (scheduleStatus null): pastDue false, no scheduleStatus', async () => {
    const [ctx] = await both({ schedule: { adjustForDST: true }, scheduleStatus: null, isPastDue: false }, 'nightly');
    expect(ctx!.trigger).toEqual({ kind: 'schedule', source: 'azure-timer', schedule: 'nightly', cron: '0 */5 * * * *', pastDue: false });
  });
});
