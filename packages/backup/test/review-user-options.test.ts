/**
 * Review (as a new user) of option checks: mistakes a user makes by accident that were accepted
 * and changed what a backup or a restore does, silently.
 *
 * - `mongoSource({ collections: [] })` (e.g. a list computed from a config that came back empty)
 *   made every run a complete, verifiable backup of nothing — and retention counts it among the
 *   `keepLast` verified backups, so a week of them prunes every real one.
 * - `pointInTimeRestore({ at: '2026-11-30T10:15:00' })` (no `Z`, no offset) was read in the
 *   machine's local time zone: UTC on a function, but hours off on a laptop — a restore to
 *   another moment than the one written, with no error.
 *
 * Each must be a `ConfigurationError` (`CONFIG_INVALID`) naming the field, before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { configError, db, storage } from './offline-options.js';
import { mongoSource, mongoTarget, pointInTimeRestore, restoreStream } from '../src/index.js';

describe('options a user gets wrong by accident', () => {
  it('mongoSource: an empty collections list is refused (it would back up nothing, as a complete backup)', async () => {
    const error = await configError(() => mongoSource({ db, collections: [] }));
    expect(error.field).toBe('collections');
    expect(error.message).toMatch(/non-empty/);
  });

  it.each(['2026-11-30T10:15:00', '2026-11-30 10:15', '2026-11-30T10:15:00.000'])('pointInTimeRestore: an ISO time without a zone (%s) is refused, not read as local time', async (at) => {
    const error = await configError(() => pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db }) }));
    expect(error.field).toBe('at');
    expect(error.message).toMatch(/Z|offset|zone/);
  });

  it('restoreStream: an until without a zone is refused the same way', async () => {
    const error = await configError(() => restoreStream({ storage, stream: 'orders', until: '2026-11-30T10:15:00', target: mongoTarget({ db }) }));
    expect(error.field).toBe('until');
  });

  it.each(['2026-11-30T10:15:00Z', '2026-11-30T10:15:00.123+01:00', '2026-11-30T10:15:00-0500'])('an ISO time with a zone (%s) passes the check', async (at) => {
    // Past the option check, the first S3 call fails (the client refuses to send): not a ConfigurationError.
    await expect(pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db }) })).rejects.not.toBeInstanceOf(ConfigurationError);
  });
});
