import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { positionKey, type StreamRecordTrigger } from './stream-position.js';

const eventHubs = (time?: string): StreamRecordTrigger => ({
  kind: 'stream',
  source: 'azure-event-hubs',
  stream: 'orders',
  partition: '0',
  sequence: '42',
  ...(time === undefined ? {} : { time }),
}) as StreamRecordTrigger;

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
});
