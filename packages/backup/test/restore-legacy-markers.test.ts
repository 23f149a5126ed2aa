/**
 * Partial-restore markers written before markers said their kind (legacy markers, literal JSON
 * as `pointInTimeRestore`, `restore` and `restoreStream` wrote them) are still matched by the
 * restore that left them (src/restore/lock-places.ts `sameRestore`). Before, a marker without
 * `kind` was read as `'snapshot'` with no stream, timeline or `until`: re-running the unfinished
 * `restoreStream` was refused for ever, and a legacy point-in-time marker was no PITR's.
 */
import { describe, expect, it } from 'vitest';
import { describeRestore, markerOf, sameRestore } from '../src/restore/lock-places.js';

const SNAPSHOT = '2026-12-05T10-00-00Z-abc';
/** As `pointInTimeRestore` and `restore` wrote it before: no kind. */
const oldSnapshotOrPitr = markerOf(JSON.parse(`{"backupId":"${SNAPSHOT}","startedAt":"2026-12-05T11:00:00.000Z","manifestSha256":"aa"}`))!;
/** As `restoreStream` wrote it before: no kind, no checksum. */
const oldStream = markerOf(JSON.parse('{"backupId":"stream orders","startedAt":"2026-12-05T11:00:00.000Z"}'))!;

describe('sameRestore on legacy markers (no kind)', () => {
  it('a legacy restoreStream marker is matched by a restoreStream of that stream, whatever its timeline and until; by nothing else', () => {
    expect(oldStream.kind).toBeUndefined();
    expect(sameRestore(oldStream, { backupId: 'stream orders', kind: 'stream', stream: 'orders', timeline: 1 })).toBe(true);
    expect(sameRestore(oldStream, { backupId: 'stream orders', kind: 'stream', stream: 'orders', timeline: 3, until: '2026-12-05T10:30:00.000Z' })).toBe(true);
    expect(sameRestore(oldStream, { backupId: 'stream payments', kind: 'stream', stream: 'payments', timeline: 1 })).toBe(false);
    // An id of that shape is never a snapshot's: a restore() or PITR with it is not the same restore.
    expect(sameRestore(oldStream, { backupId: 'stream orders' })).toBe(false);
    expect(sameRestore(oldStream, { backupId: 'stream orders', kind: 'point-in-time', stream: 'orders', until: '2026-12-05T10:30:00.000Z' })).toBe(false);
  });

  it('a legacy snapshot-or-PITR marker is matched by a pointInTimeRestore or a restore() of that snapshot (same checksum); not by a stream replay or another backup', () => {
    const pitr = { backupId: SNAPSHOT, manifestSha256: 'aa', kind: 'point-in-time' as const, stream: 'orders', until: '2026-12-05T10:30:00.000Z' };
    expect(sameRestore(oldSnapshotOrPitr, pitr)).toBe(true);
    expect(sameRestore(oldSnapshotOrPitr, { ...pitr, until: '2026-12-05T10:45:00.000Z' })).toBe(true);
    // The old behaviour, kept: a restore() of the snapshot completes it (it cannot tell a PITR's from a restore()'s).
    expect(sameRestore(oldSnapshotOrPitr, { backupId: SNAPSHOT, manifestSha256: 'aa', kind: 'snapshot' })).toBe(true);
    expect(sameRestore(oldSnapshotOrPitr, { backupId: SNAPSHOT, manifestSha256: 'aa' })).toBe(true);
    // What it does say still counts: the checksum (another bucket's backup of that id), the id.
    expect(sameRestore(oldSnapshotOrPitr, { ...pitr, manifestSha256: 'bb' })).toBe(false);
    expect(sameRestore(oldSnapshotOrPitr, { ...pitr, backupId: 'other' })).toBe(false);
  });

  it('a current marker (with kind) still needs the exact restore', () => {
    const marker = { backupId: SNAPSHOT, manifestSha256: 'aa', kind: 'point-in-time' as const, stream: 'orders', until: '2026-12-05T10:30:00.000Z' };
    expect(sameRestore(marker, marker)).toBe(true);
    expect(sameRestore(marker, { ...marker, until: '2026-12-05T10:45:00.000Z' })).toBe(false);
    expect(sameRestore(marker, { backupId: SNAPSHOT, manifestSha256: 'aa', kind: 'snapshot' })).toBe(false);
    const stream = { backupId: 'stream orders', kind: 'stream' as const, stream: 'orders', timeline: 1 };
    expect(sameRestore(stream, { ...stream, timeline: 2 })).toBe(false);
  });

  it('describes a legacy restoreStream marker by its id (it names no timeline)', () => {
    expect(describeRestore(oldStream)).toBe('stream orders');
    expect(describeRestore(oldSnapshotOrPitr)).toBe(`backup ${SNAPSHOT}`);
  });
});
