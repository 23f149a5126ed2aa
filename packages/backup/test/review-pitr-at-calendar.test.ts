/**
 * Review (try-to-break) finding on the target time of `pointInTimeRestore` (`at`) and
 * `restoreStream` (`until`): a date the calendar lacks — 29 February of a common year, 31
 * November — passed the check and was read as the days after it (V8's `Date.parse` rolls
 * `2026-02-30` over to 2 March), so the restore reproduced another moment than the one written.
 * Epoch milliseconds outside what a `Date` holds passed too and ended in a `RangeError`. Both
 * must be refused with `ConfigurationError` on their field, before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { configError, db, storage } from './offline-options.js';
import { mongoTarget, pointInTimeRestore, restoreStream } from '../src/index.js';

describe('a target time the calendar or a Date cannot hold', () => {
  it.each(['2026-02-29T10:00:00Z', '2026-02-30T10:00:00Z', '2026-11-31T10:15:00+01:00', '2026-04-31 00:00Z'])('pointInTimeRestore: %s is refused, not rolled over to the next month', async (at) => {
    const error = await configError(() => pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db }) }));
    expect(error.field).toBe('at');
  });

  it.each([1e20, -1e20])('pointInTimeRestore: epoch milliseconds %d (past what a Date holds) are refused', async (at) => {
    const error = await configError(() => pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db }) }));
    expect(error.field).toBe('at');
  });

  it('restoreStream: until on 31 September is refused the same way', async () => {
    const error = await configError(() => restoreStream({ storage, stream: 'orders', until: '2026-09-31T00:00:00Z', target: mongoTarget({ db }) }));
    expect(error.field).toBe('until');
  });

  it.each(['2028-02-29T10:00:00Z', '2026-12-31T23:59:59.999-12:00', '2026-01-31T00:00:00+14:00'])('a real day (%s) passes the check', async (at) => {
    // Past the option check, the first S3 call fails (the client refuses to send): not a ConfigurationError.
    await expect(pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db }) })).rejects.not.toBeInstanceOf(ConfigurationError);
  });
});
