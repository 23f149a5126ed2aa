import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Trigger } from '@steadyfn/handler';
import { isReusablePosition, positionKey, type ReusablePositionTrigger, type StreamRecordTrigger } from './stream-position.js';

const eventHubs = (time?: string): StreamRecordTrigger => ({
  kind: 'stream',
  source: 'azure-event-hubs',
  stream: 'orders',
  partition: '0',
  sequence: '42',
  ...(time === undefined ? {} : { time }),
}) as StreamRecordTrigger;

describe('isReusablePosition', () => {
  const queue = (source: string): Trigger => ({ kind: 'queue', source, messageId: 'm-1', attributes: {}, batchIndex: 0, batchSize: 1 }) as Trigger;

  it('a Service Bus message is one (its sequence number counts from 1 per entity); other queues are not', () => {
    expect(isReusablePosition(queue('azure-service-bus'))).toBe(true);
    expect(isReusablePosition(queue('sqs'))).toBe(false);
    expect(isReusablePosition(queue('pubsub'))).toBe(false);
    expect(isReusablePosition(queue('azure-storage-queue'))).toBe(false);
  });

  it('keys a Service Bus message by its delivery id and EnqueuedTimeUtc', () => {
    const bus = { ...queue('azure-service-bus'), sequenceNumber: '1', time: '2026-12-01T10:00:00.1230000+00:00' } as ReusablePositionTrigger;
    expect(positionKey('contoso.servicebus.windows.net/orders#1', bus)).toBe('contoso.servicebus.windows.net/orders#1\u00002026-12-01T10:00:00.123Z');
  });
});

describe('positionKey', () => {
  it('gives one key for two forms of one Event Hubs enqueuedTimeUtc instant', () => {
    const iso = positionKey('orders/0/42', eventHubs('2026-12-01T10:00:00.123Z'));
    const offset = positionKey('orders/0/42', eventHubs('2026-12-01T10:00:00.1230000+00:00'));
    const otherZone = positionKey('orders/0/42', eventHubs('2026-12-01T11:00:00.123+01:00'));
    expect(iso).toBe('orders/0/42\u00002026-12-01T10:00:00.123Z');
    expect(offset).toBe(iso);
    expect(otherZone).toBe(iso);
  });

  it('keeps other instants apart and a time that does not parse as given', () => {
    expect(positionKey('orders/0/42', eventHubs('2026-12-01T10:00:00.124Z'))).not.toBe(positionKey('orders/0/42', eventHubs('2026-12-01T10:00:00.123Z')));
    expect(positionKey('orders/0/42', eventHubs('not a time'))).toBe('orders/0/42\u0000not a time');
    expect(positionKey('orders/0/42', eventHubs())).toBe('orders/0/42');
    expect(positionKey('orders/0/42', eventHubs(''))).toBe('orders/0/42');
  });
});

/**
 * `recordTime` run in a child process whose `TZ` is `zone` (a zone is read when the process
 * starts; the test process's own is UTC here, where a local reading goes unseen): the zone's
 * offset on 2026-12-01 in minutes (`getTimezoneOffset`, so the test knows the zone took), and
 * the key of each time.
 */
function recordTimesIn(zone: string, times: string[]): { offset: number; keys: string[] } {
  const module = new URL('./stream-position.ts', import.meta.url).href;
  const script = `const { recordTime } = await import(${JSON.stringify(module)});
    console.log(JSON.stringify({ offset: new Date(Date.UTC(2026, 11, 1)).getTimezoneOffset(), keys: ${JSON.stringify(times)}.map(recordTime) }));`;
  const out = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { env: { ...process.env, TZ: zone }, encoding: 'utf8' });
  return JSON.parse(out) as { offset: number; keys: string[] };
}

describe('recordTime', () => {
  // Event Hubs' enqueuedTimeUtc is UTC by its source; a host may pass it without a zone
  // (`2026-12-01T10:00:00.123`), and Date.parse reads such a date-time in the process's zone —
  // Azure Functions on App Service sets it (WEBSITE_TIME_ZONE). One record, one key on every host.
  it.each(['America/New_York', 'Asia/Kolkata', 'UTC'])('reads a zone-less ISO date-time as UTC under TZ=%s', (zone) => {
    const times = ['2026-12-01T10:00:00.123', '2026-12-01T10:00:00.1230000', '2026-12-01 10:00:00.123', '2026-12-01T10:00', '2026-12-01T10:00:00.123Z', '2026-12-01T11:00:00.123+01:00'];
    const { offset, keys } = recordTimesIn(zone, times);
    expect(offset).toBe({ 'America/New_York': 300, 'Asia/Kolkata': -330, UTC: 0 }[zone]);
    expect(keys).toEqual([
      '2026-12-01T10:00:00.123Z',
      '2026-12-01T10:00:00.123Z',
      '2026-12-01T10:00:00.123Z',
      '2026-12-01T10:00:00.000Z',
      '2026-12-01T10:00:00.123Z',
      '2026-12-01T10:00:00.123Z',
    ]);
  });

  // Brief s53-fxb, item 4: a zone-less time in another form than ISO 8601 (a .NET UTC DateTime
  // as the Functions host may write enqueuedTimeUtc, an RFC 1123 date without its GMT) went to
  // Date.parse, which reads it in TZ: one record, another key on a host in another zone. Every
  // zone-less text is now read as UTC, and a zone the text ends with is read from the text.
  it.each(['America/New_York', 'Asia/Kolkata', 'Europe/Paris', 'UTC'])('reads a zone-less time in any form as UTC, and a zone it ends with, under TZ=%s', (zone) => {
    const zoneless = ['12/01/2026 10:00:00', '12/1/2026 10:00:00 AM', 'Tue, 01 Dec 2026 10:00:00', 'Dec 1, 2026 10:00:00', '2026/12/01 10:00:00', 'Tuesday, December 1, 2026 10:00:00 AM'];
    const zoned = ['Tue, 01 Dec 2026 10:00:00 GMT', 'Tue, 01 Dec 2026 11:00:00 +0100', '12/1/2026 11:00:00 AM +01:00', 'Tue, 01 Dec 2026 05:00:00 EST', 'Tue Dec 01 2026 11:00:00 GMT+0100 (Central European Standard Time)', '2026-12-01 11:00:00+01:00', '2026-12-01T05:00:00-05:00'];
    const { offset, keys } = recordTimesIn(zone, [...zoneless, ...zoned, '12/1/2026 10:00:00 PM', '2026-12-01', 'foo 1', 'not a time +0000']);
    expect(offset).toBe({ 'America/New_York': 300, 'Asia/Kolkata': -330, 'Europe/Paris': -60, UTC: 0 }[zone]);
    expect(keys).toEqual([
      ...[...zoneless, ...zoned].map(() => '2026-12-01T10:00:00.000Z'),
      '2026-12-01T22:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      // No four-digit year: Date.parse would guess one (2001), so the text is kept as given.
      'foo 1',
      'not a time +0000',
    ]);
  });
});

// Review rvm2, item 2: ECMAScript's expanded years (`+002026`, `-000001`) are ISO 8601 as
// Date#toISOString writes them; earlier versions keyed them by their instant, and a key that
// changes across the upgrade is a new key for one record.
describe('recordTime with an expanded year', () => {
  it.each(['America/New_York', 'Asia/Kolkata', 'UTC'])('gives the instant, as earlier versions did, under TZ=%s', (zone) => {
    const times = ['+002026-12-01T10:00:00.000Z', '-000001-01-01T00:00:00Z', '+002026-12-01T11:00:00.000+01:00', '+002026-12-01T10:00:00.000', '+002026-12-01'];
    const { offset, keys } = recordTimesIn(zone, times);
    expect(offset).toBe({ 'America/New_York': 300, 'Asia/Kolkata': -330, UTC: 0 }[zone]);
    expect(keys).toEqual(['2026-12-01T10:00:00.000Z', '-000001-01-01T00:00:00.000Z', '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z', '2026-12-01T00:00:00.000Z']);
  });
});
