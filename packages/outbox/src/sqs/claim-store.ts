/**
 * The claim-check step of a send pass: the bodies `prepareMessage` marked for S3 are stored
 * (`storeClaimCheck`, in parallel) and replaced by their pointers; a message whose store failed
 * becomes a failed entry of the report.
 */
import pLimit from 'p-limit';
import { CLAIM_CHECK_ATTRIBUTE, claimCheckKey, pointerBody, storeClaimCheck, type ClaimCheck } from './claim-check.js';
import { SendFailureCode } from './errors.js';
import type { Prepared } from './prepare.js';
import { messageBytes } from './size.js';
import type { FailedEntry } from './types.js';

/** What one pass's claim-check step needs. */
export interface ClaimRun {
  /** The claim check (`s3ClaimCheck()`'s). */
  claimCheck: ClaimCheck;
  /** Its key prefix (default applied). */
  prefix: string;
  /** The queue's limit the pointer message must fit. */
  maxMessageBytes: number;
  /** Uploads at once. */
  concurrency: number;
  /** Records a failed entry (and blocks its group for the rest of the call). */
  early: (id: string, index: number, group: string | undefined, f: Omit<FailedEntry, 'id'>) => void;
}

/**
 * Stores the bodies marked for a claim check in S3 (in parallel) and turns each into a pointer
 * message; a message whose store failed leaves `ready` as a failed entry. Keeps `ready`'s order.
 */
export async function storeClaims(ready: Prepared[], run: ClaimRun, signal: AbortSignal | undefined): Promise<void> {
  const limit = pLimit(run.concurrency);
  const claims = ready.filter((p) => p.claimBody !== undefined);
  const outcomes = await Promise.all(claims.map((p) => limit(() => storeClaimCheck(run.claimCheck, claimCheckKey(run.prefix, p.id), p.claimBody!, signal))));
  const failedIds = new Set<Prepared>();
  claims.forEach((p, i) => {
    const outcome = outcomes[i]!;
    if (!outcome.ok) {
      failedIds.add(p);
      const code = outcome.conflict ? SendFailureCode.claimCheckConflict : SendFailureCode.claimCheckFailed;
      const message = outcome.conflict ? `claim-check object ${claimCheckKey(run.prefix, p.id)} exists with different content` : `storing the claim-check object failed (${outcome.code})`;
      return run.early(p.id, p.index, p.group, { code, senderFault: outcome.conflict, retryable: outcome.retryable, judged: outcome.conflict, message });
    }
    p.body = pointerBody(outcome.pointer);
    p.attributes = { ...p.attributes, [CLAIM_CHECK_ATTRIBUTE]: '1' };
    p.bytes = messageBytes(p.body, p.attributes);
    p.claimCheck = outcome.pointer;
    delete p.claimBody;
    if (p.bytes > run.maxMessageBytes) {
      failedIds.add(p);
      run.early(p.id, p.index, p.group, { code: SendFailureCode.tooLarge, senderFault: true, retryable: false, judged: true, message: `even as a claim-check pointer the message is ${p.bytes} bytes (its attributes are too large)` });
    }
  });
  if (failedIds.size > 0) ready.splice(0, ready.length, ...ready.filter((p) => !failedIds.has(p)));
}
