/**
 * Events a relay run did not send, tallied over the run and said once at its end (a flush, or
 * a sweep over all its chunks): an outage fails them all alike.
 */
import type { Logger } from '@steadyfn/handler';

/** Events of a run that were not sent, and their distinct codes (SQS's own or the sender's). */
export interface UnsentTally {
  failed: number;
  codes: Set<string>;
  /** Of `failed`, the events a sender fault quarantined (held until a redrive, not retried). */
  quarantined?: number;
}

/**
 * Says, once per run (a flush, or a sweep over all its chunks), that some events were not sent:
 * their count and distinct codes — SQS's own (`NonExistentQueue`, `AccessDenied`,
 * `ThrottlingException`…), the sender's (`OUTBOX_SQS_…`), or why no verdict came (`Aborted`,
 * `ECONNREFUSED`). Without it an operator saw only `failed` in the `outbox` record. Codes are
 * names, never values; at most 10.
 */
export function warnUnsent(log: Logger | undefined, store: string, tally: UnsentTally): void {
  if (tally.failed === 0) return;
  const codes = [...tally.codes].slice(0, 10).join(',');
  const quarantined = tally.quarantined ?? 0;
  if (quarantined === 0) {
    log?.warn('outbox relay: some events were not sent to SQS; they stay pending for the next flush or sweep', { store, failed: tally.failed, codes });
    return;
  }
  // Quarantined events are not retried by a flush or sweep: saying so would have an operator wait for nothing.
  const msg =
    quarantined >= tally.failed
      ? 'outbox relay: some events were not sent to SQS; SQS refuses them as they are (a sender fault), so they are quarantined until a redrive'
      : 'outbox relay: some events were not sent to SQS; those SQS refuses as they are (a sender fault) are quarantined until a redrive, the others stay pending for the next flush or sweep';
  log?.warn(msg, { store, failed: tally.failed, quarantined, codes });
}
