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
