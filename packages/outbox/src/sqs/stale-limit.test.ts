import { describe, expect, it } from 'vitest';
import { SendFailureCode } from './errors.js';
import { acquit, mayBeStaleLimit, refusalReason, refusedBySqs, toResend, type FirstPassFailure } from './stale-limit.js';

const failure = (index: number, code: string, group?: string, suspect = false): FirstPassFailure => ({
  failure: { id: `m${index}`, code, senderFault: code !== SendFailureCode.groupBlocked, retryable: false, judged: true },
  index,
  group,
  suspect,
});

describe('stale-limit', () => {
  it('a size refusal is a suspect only above the smallest queue limit; other sender faults never', () => {
    const refused = { id: 'a', code: 'AWS.SimpleQueueService.InvalidParameterValue', senderFault: true, retryable: false, judged: true };
    expect(mayBeStaleLimit(refused, 1_025)).toBe(true);
    expect(mayBeStaleLimit(refused, 1_024)).toBe(false);
    expect(mayBeStaleLimit({ ...refused, senderFault: false }, 5_000)).toBe(false);
    expect(mayBeStaleLimit({ ...refused, code: 'InvalidMessageContents' }, 5_000)).toBe(false);
    expect(mayBeStaleLimit({ ...refused, code: SendFailureCode.tooLarge }, undefined)).toBe(true);
  });

  it("SQS's text tells a size refusal from another InvalidParameterValue; without a text the code alone decides", () => {
    // SQS, moto and fauxqs alike; moto's DelaySeconds refusal; BatchRequestTooLong is about size by its code.
    expect(refusalReason('InvalidParameterValue', 'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.')).toBe('size');
    expect(refusalReason('BatchRequestTooLong', 'Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.')).toBe('size');
    expect(refusalReason('BatchRequestTooLong', undefined)).toBe('size');
    expect(refusalReason('InvalidParameterValue', 'Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.')).toBe('other');
    expect(refusalReason('InvalidParameterValue', "The message attribute 'k' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.")).toBe('other');
    expect(refusalReason('InvalidParameterValue', undefined)).toBeUndefined();
    expect(refusalReason('InvalidParameterValue', ' ')).toBeUndefined();
    // The SDK's stand-ins when the answer had no message, and SQS's preamble without a reason: no verdict.
    expect(refusalReason('InvalidParameterValue', 'InvalidParameterValue')).toBeUndefined();
    expect(refusalReason('InvalidParameterValue', 'AWS.SimpleQueueService.InvalidParameterValue')).toBeUndefined();
    expect(refusalReason('InvalidParameterValue', 'UnknownError')).toBeUndefined();
    expect(refusalReason('InvalidParameterValue', 'One or more parameters are invalid.')).toBeUndefined();
    const refused = { id: 'a', code: 'InvalidParameterValue', senderFault: true, retryable: false, judged: true };
    expect(mayBeStaleLimit(refused, 5_000, 'other')).toBe(false);
    expect(mayBeStaleLimit(refused, 5_000, 'size')).toBe(true);
    expect(mayBeStaleLimit(refused, 5_000, undefined)).toBe(true);
  });

  it('resends suspects and what waited behind them in their group, in input order; not past another failure of the group', () => {
    const resend = toResend([
      failure(4, SendFailureCode.groupBlocked, 'a'),
      failure(1, 'InvalidParameterValue', 'a', true),
      failure(2, 'InternalError', 'b'),
      failure(3, 'InvalidParameterValue', 'b', true),
      failure(5, SendFailureCode.groupBlocked, 'b'),
      failure(6, SendFailureCode.duplicateId, 'c'),
      failure(7, SendFailureCode.tooLarge, undefined, true),
    ]);
    expect(resend.map((f) => f.index)).toEqual([1, 4, 7]);
  });

  it("tells SQS's own size refusals from the sender's; acquits only the failures selected, keeping their code", () => {
    const failures = [failure(1, 'InvalidParameterValue', 'a', true), failure(2, SendFailureCode.tooLarge, 'b', true), failure(3, 'InvalidParameterValue', 'c'), failure(4, SendFailureCode.groupBlocked, 'a')];
    expect(failures.map(refusedBySqs)).toEqual([true, false, false, false]);
    acquit(failures, refusedBySqs, { retryable: true, judged: true, message: 'later' });
    expect(failures.map((f) => f.failure)).toEqual([
      { id: 'm1', code: 'InvalidParameterValue', senderFault: false, retryable: true, judged: true, message: 'later' },
      { id: 'm2', code: SendFailureCode.tooLarge, senderFault: true, retryable: false, judged: true },
      { id: 'm3', code: 'InvalidParameterValue', senderFault: true, retryable: false, judged: true },
      { id: 'm4', code: SendFailureCode.groupBlocked, senderFault: false, retryable: false, judged: true },
    ]);
  });
});
