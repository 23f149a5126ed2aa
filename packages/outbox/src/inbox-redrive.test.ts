/**
 * The inbox's RedrivePolicy reader when a read fails: the last value applies and no read is
 * tried again for RECEIVE_LIMIT_RETRY_AFTER_MS (before: every gap on a warm instance sent one
 * more failing GetQueueAttributes, and warned each time) — except the confirming read just
 * before a gap is accepted on the cached value (review: the pause skipped it); a read cut short by the invocation's
 * own signal is not warned about as "could not read". A real SQSClient whose GetQueueAttributes
 * is answered (or failed) by a middleware before any request is sent: pure logic, no server.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@steadyfn/handler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RECEIVE_LIMIT_MAX_AGE_MS, RECEIVE_LIMIT_RETRY_AFTER_MS, receiveLimitOf } from './inbox-redrive.js';
import { inboxQueue } from './sqs/inbox-queue.js';

afterEach(() => void vi.useRealTimers());

/** A reader over a client whose reads `answer` decides: a maxReceiveCount, a thrown error, or a wait. */
function rig(answer: () => Promise<number>) {
  const client = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  let reads = 0;
  client.middlewareStack.add(
    () => async () => {
      reads++;
      const maxReceiveCount = await answer();
      return { output: { $metadata: {}, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:dlq', maxReceiveCount }) } }, response: {} };
    },
    { step: 'initialize' },
  );
  const warnings: string[] = [];
  const log = { warn: (message: string) => void warnings.push(message) } as unknown as Logger;
  const limit = receiveLimitOf('inbox', inboxQueue({ client, queueUrl: 'http://127.0.0.1:9/1/q' }))!;
  return { limit, log, warnings, reads: () => reads };
}

describe('inbox RedrivePolicy reads that fail', () => {
  it('a failed re-read keeps the last value and is not tried again for RECEIVE_LIMIT_RETRY_AFTER_MS', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    let fail = false;
    let next = 3;
    const { limit, log, warnings, reads } = rig(async () => {
      if (fail) throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
      return next;
    });
    expect(await limit(log, undefined)).toBe(3);
    fail = true;
    vi.advanceTimersByTime(RECEIVE_LIMIT_MAX_AGE_MS + 1);
    expect(await limit(log, undefined)).toBe(3);
    expect([reads(), warnings.length]).toEqual([2, 1]);
    // Within the pause: the last value, no read, no warning.
    vi.advanceTimersByTime(RECEIVE_LIMIT_RETRY_AFTER_MS - 1_000);
    expect(await limit(log, undefined)).toBe(3);
    expect([reads(), warnings.length]).toEqual([2, 1]);
    // But a caller about to accept a gap on the value still gets its confirming read
    // (concurrent ones share it): the queue now answers, with a changed maxReceiveCount.
    fail = false;
    next = 5;
    const since = performance.now();
    expect(await Promise.all([limit(log, undefined, since), limit(log, undefined, since)])).toEqual([5, 5]);
    expect([reads(), warnings.length]).toEqual([3, 1]);
    // Read, the value is fresh again: no read.
    vi.advanceTimersByTime(1_001);
    expect(await limit(log, undefined)).toBe(5);
    expect(reads()).toBe(3);
  });

  it('a read cut short by the invocation\'s own signal is not warned about, and the next call reads again', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const controller = new AbortController();
    let hang = true;
    const { limit, log, warnings, reads } = rig(
      () =>
        hang
          ? new Promise<number>((_, reject) => {
              // inboxQueue() sends on a later tick: the signal may already be aborted by then.
              const abort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
              if (controller.signal.aborted) abort();
              else controller.signal.addEventListener('abort', abort);
            })
          : Promise.resolve(4),
    );
    const cut = limit(log, controller.signal);
    controller.abort();
    expect(await cut).toBeUndefined();
    expect(warnings).toEqual([]);
    hang = false;
    expect(await limit(log, undefined)).toBe(4);
    expect(reads()).toBe(2);
  });
});
