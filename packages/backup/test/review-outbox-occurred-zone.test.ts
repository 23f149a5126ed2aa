/**
 * Review follow-up: an outbox envelope's `occurredAt` without a time zone
 * (`2026-11-30T10:00:00`) was read in the machine's local time — UTC on a function, hours off
 * on a laptop — while a point-in-time restore's `at` without a zone is refused. The archived
 * record's `time` (what a PITR compares `at` with) must not depend on where it ran: such an
 * envelope is refused like any other malformed one (`SourceRecordInvalidError`, its position
 * in `problems`), and one with `Z` or an offset is read as written.
 */
import { describe, expect, it } from 'vitest';
import { SourceRecordInvalidError } from '../src/index.js';
import { envelopesToBatch } from '../src/stream/sources/outbox.js';

const envelope = (occurredAt: string) => ({ id: 'e1', type: 'T', aggregateType: 'carts', aggregateId: 'c1', seq: 1, payload: {}, occurredAt });

describe('outbox occurredAt time zone', () => {
  it.each(['2026-11-30T10:00:00', '2026-11-30 10:00', '2026-11-30', 'Mon, 30 Nov 2026 10:00:00'])('refuses %s (no zone)', (occurredAt) => {
    let error: unknown;
    try {
      envelopesToBatch([{ envelope: envelope(occurredAt), position: 'p7' }], undefined, true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SourceRecordInvalidError);
    expect((error as SourceRecordInvalidError).code).toBe('BACKUP_SOURCE_RECORD_INVALID');
    expect(JSON.stringify((error as SourceRecordInvalidError).problems)).toMatch(/p7.*occurredAt/);
  });

  it('reads Z and offsets as written', () => {
    const batch = envelopesToBatch(
      [
        { envelope: envelope('2026-11-30T10:00:00Z'), position: 'a' },
        { envelope: { ...envelope('2026-11-30T11:00:00.250+01:00'), id: 'e2', seq: 2 }, position: 'b' },
      ],
      undefined,
      true,
    );
    expect(batch.records.map((r) => r.time)).toEqual(['2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.250Z']);
  });
});
