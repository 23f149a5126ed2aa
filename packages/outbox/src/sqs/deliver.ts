/**
 * Sends packed batches: one `SendMessageBatch` per batch, split on `BatchRequestTooLong`,
 * bisected when the whole call was refused for one entry, retried with p-retry (exponential
 * backoff with jitter) for throttling and server faults — only the entries that failed.
 *
 * Group order: a batch waits for every earlier batch that holds a message of one of its groups;
 * once a message of a group has failed for good, the group's later messages in this run are not
 * sent (`OUTBOX_SQS_GROUP_BLOCKED`, retryable), and a message waiting for a retry holds back the
 * later messages of its group until the retry is decided.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { LimitFunction } from 'p-limit';
import pRetry from 'p-retry';
import { classifyCallError, isRetryableEntry, normaliseCode } from './classify.js';
import { SendFailureCode } from './errors.js';
import type { Prepared } from './prepare.js';
import { refusalReason, type RefusalReason } from './stale-limit.js';
import type { FailedEntry, SendReport, SentEntry } from './types.js';

/** p-retry settings, durations in milliseconds. */
export interface RetrySettings {
  retries: number;
  factor: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export interface DeliveryContext {
  client: SQSClient;
  queueUrl: string;
  fifo: boolean;
  retry: RetrySettings;
  /** Bounds the calls in flight: shared by every `send()` of one sender. */
  limit: LimitFunction;
  signal: AbortSignal | undefined;
  /** Current batch byte limit; lowered when SQS answers `BatchRequestTooLong`. */
  batchBytes: { value: number };
  /**
   * Filled in: for each message SQS refused as a sender fault, what its answer's text says it was
   * refused for (`refusalReason`; absent when SQS gave no text). The text itself is not kept.
   */
  refusedFor?: Map<string, RefusalReason>;
}

/** Groups with a message that failed for good: group → that message's id and input index. */
export type Blocked = Map<string, { id: string; index: number }>;

/** Records that `group` failed at message `index`; the earliest failure counts. */
export function blockGroup(blocked: Blocked, group: string | undefined, id: string, index: number): void {
  if (group !== undefined && (blocked.get(group)?.index ?? Infinity) > index) blocked.set(group, { id, index });
}

/** Thrown inside p-retry to ask for another attempt with the entries still pending. */
class PendingEntries extends Error {
  constructor(readonly code: string) {
    super(`entries pending after ${code}`);
  }
}

const sum = (entries: ReadonlyArray<Prepared>): number => {
  let n = 0;
  for (const e of entries) n += e.bytes;
  return n;
};

function toWire(e: Prepared): SendMessageBatchRequestEntry {
  const entry: SendMessageBatchRequestEntry = { Id: `m${e.index}`, MessageBody: e.body };
  const names = Object.keys(e.attributes);
  if (names.length > 0) {
    entry.MessageAttributes = {};
    for (const name of names) entry.MessageAttributes[name] = { DataType: 'String', StringValue: e.attributes[name]! };
  }
  if (e.delaySeconds !== undefined) entry.DelaySeconds = e.delaySeconds;
  return entry;
}

/**
 * Delivers `batches` (lists of prepared messages, each within the limits) and records every
 * outcome in `report`. Never throws for SQS answers; an abort ends with the unsent entries
 * reported `OUTBOX_SQS_ABORTED`.
 */
export async function deliverBatches(batches: ReadonlyArray<ReadonlyArray<Prepared>>, ctx: DeliveryContext, report: SendReport, blocked: Blocked, counters: { entries: number; bytes: number; limitBytes: number }): Promise<void> {
  // Built once per message, when first sent (after the claim check set its final body), and
  // reused by every later call that carries it: a split's halves, a retry.
  const wire = (e: Prepared): SendMessageBatchRequestEntry => {
    if (e.wire !== undefined) return e.wire;
    const entry = toWire(e);
    if (ctx.fifo) {
      entry.MessageGroupId = e.group!;
      entry.MessageDeduplicationId = e.id;
    }
    e.wire = entry;
    return entry;
  };
  // Every message ends up exactly once in `sent` or `failed`.
  const settled = new Set<Prepared>();
  const done = (e: Prepared, messageId: string, sequenceNumber: string | undefined): void => {
    if (settled.has(e)) return;
    settled.add(e);
    const entry: SentEntry = { id: e.id, messageId };
    if (sequenceNumber !== undefined) entry.sequenceNumber = sequenceNumber;
    if (e.claimCheck !== undefined) entry.claimCheck = e.claimCheck;
    report.sent.push(entry);
    report.bytes += e.bytes;
  };
  const failed = (e: Prepared, f: Omit<FailedEntry, 'id'>): void => {
    if (settled.has(e)) return;
    settled.add(e);
    report.failed.push({ id: e.id, ...f });
    blockGroup(blocked, e.group, e.id, e.index);
  };
  /** Keeps what SQS's text says a refusal was for (not the text: it may quote the message's values). */
  const noteReason = (e: Prepared, code: string, text: unknown): void => {
    const reason = refusalReason(code, typeof text === 'string' ? text : undefined);
    if (reason !== undefined && ctx.refusedFor !== undefined && !settled.has(e)) ctx.refusedFor.set(e.id, reason);
  };
  // Only later messages of the group wait behind a failed one.
  const isBlocked = (e: Prepared): boolean => e.group !== undefined && (blocked.get(e.group)?.index ?? Infinity) < e.index;
  const blockedFailure = (e: Prepared): void =>
    failed(e, { code: SendFailureCode.groupBlocked, senderFault: false, retryable: true, judged: false, message: `not sent: message ${blocked.get(e.group!)!.id} of the same group failed first` });

  /** One call; returns the entries to try again (in input order). */
  const call = async (entries: Prepared[]): Promise<Prepared[]> => {
    const live: Prepared[] = [];
    for (const e of entries) (isBlocked(e) ? blockedFailure(e) : live.push(e));
    if (live.length === 0) return [];
    const bytes = sum(live);
    if (live.length > 1 && bytes > ctx.batchBytes.value) return halves(live);
    report.batches++;
    counters.entries += live.length;
    counters.bytes += bytes;
    counters.limitBytes += ctx.batchBytes.value;
    const wired = live.map(wire);
    let answer;
    try {
      answer = await ctx.client.send(new SendMessageBatchCommand({ QueueUrl: ctx.queueUrl, Entries: wired }), ctx.signal === undefined ? undefined : { abortSignal: ctx.signal });
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      const verdict = classifyCallError(error);
      if (verdict.kind === 'retry') {
        lastCode.set(live, verdict.code);
        return live;
      }
      if (verdict.kind === 'fail') {
        for (const e of live) failed(e, { code: verdict.code, senderFault: false, retryable: verdict.retryable, judged: false, message: `SQS refused the whole call (${verdict.code})` });
        return [];
      }
      if (live.length === 1) {
        noteReason(live[0]!, verdict.code, (error as { message?: unknown } | null)?.message);
        failed(live[0]!, { code: verdict.code, senderFault: true, retryable: false, judged: true, message: `SQS refused the message (${verdict.code})` });
        return [];
      }
      report.splits++;
      if (verdict.kind === 'split') ctx.batchBytes.value = Math.max(1, Math.min(ctx.batchBytes.value, Math.floor(bytes / 2)));
      return halves(live);
    }
    const byId = new Map<string, Prepared>();
    for (let i = 0; i < live.length; i++) byId.set(wired[i]!.Id!, live[i]!);
    for (const ok of answer.Successful ?? []) {
      const e = byId.get(ok.Id!);
      if (e === undefined) continue;
      byId.delete(ok.Id!);
      done(e, ok.MessageId!, ok.SequenceNumber);
    }
    const again: Prepared[] = [];
    for (const bad of answer.Failed ?? []) {
      const e = byId.get(bad.Id!);
      if (e === undefined) continue;
      byId.delete(bad.Id!);
      const code = normaliseCode(bad.Code ?? 'Unknown');
      if (isRetryableEntry(bad)) {
        again.push(e);
        codes.set(e, code);
        judged.add(e);
      } else {
        noteReason(e, code, bad.Message);
        failed(e, { code, senderFault: true, retryable: false, judged: true, message: `SQS refused the message (${code})` });
      }
    }
    // An entry SQS did not answer for at all is not known to be sent: try it again.
    for (const e of byId.values()) again.push(e);
    return again.sort((a, b) => a.index - b.index);
  };

  /** Sends the first half, then the second; a group still pending in the first holds back its later messages. */
  const halves = async (entries: Prepared[]): Promise<Prepared[]> => {
    const cut = splitPoint(entries);
    const first = await call(entries.slice(0, cut));
    const waiting = new Set(first.map((e) => e.group).filter((g) => g !== undefined));
    const held: Prepared[] = [];
    const rest: Prepared[] = [];
    for (const e of entries.slice(cut)) (e.group !== undefined && waiting.has(e.group) ? held : rest).push(e);
    const second = await call(rest);
    return [...first, ...held, ...second].sort((a, b) => a.index - b.index);
  };

  const codes = new Map<Prepared, string>();
  // Entries SQS itself answered for (a retryable per-entry failure): a verdict, unlike a failed call.
  const judged = new Set<Prepared>();
  const lastCode = { set: (entries: Prepared[], code: string) => entries.forEach((e) => codes.set(e, code)) };

  const deliverOne = async (batch: ReadonlyArray<Prepared>): Promise<void> => {
    let pending = [...batch];
    try {
      // The first attempt runs before p-retry is set up: most batches need no retry. Attempt 1
      // inside p-retry stands for it (it reports what is still pending), so the retries, their
      // backoff and the count in `report.retries` are p-retry's as if it had made that call.
      pending = await call(pending);
      if (pending.length === 0) return;
      await pRetry(
        async (attempt) => {
          if (attempt > 1) pending = await call(pending);
          if (pending.length > 0) throw new PendingEntries(codes.get(pending[0]!) ?? 'Unknown');
        },
        {
          retries: ctx.retry.retries,
          factor: ctx.retry.factor,
          minTimeout: ctx.retry.minTimeoutMs,
          maxTimeout: ctx.retry.maxTimeoutMs,
          randomize: true,
          ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
          shouldRetry: ({ error }) => error instanceof PendingEntries,
          onFailedAttempt: ({ error, retriesLeft }) => {
            if (error instanceof PendingEntries && retriesLeft > 0) report.retries++;
          },
        },
      );
    } catch (error) {
      const aborted = ctx.signal?.aborted === true && !(error instanceof PendingEntries);
      for (const e of pending) {
        if (aborted) failed(e, { code: SendFailureCode.aborted, senderFault: false, retryable: true, judged: false, message: 'aborted before SQS confirmed the message; it may have been accepted' });
        else {
          const code = codes.get(e) ?? 'Unknown';
          failed(e, { code, senderFault: false, retryable: true, judged: judged.has(e), message: `still failing after ${ctx.retry.retries} retries (${code})` });
        }
      }
    }
  };

  // A batch starts once every earlier batch holding one of its groups has finished.
  const limit = ctx.limit;
  const lastOfGroup = new Map<string, Promise<void>>();
  const runs = batches.map((batch) => {
    const before = new Set<Promise<void>>();
    for (const e of batch) if (e.group !== undefined && lastOfGroup.has(e.group)) before.add(lastOfGroup.get(e.group)!);
    const start = (): Promise<void> => limit(() => (ctx.signal?.aborted ? abortAll(batch) : deliverOne(batch)));
    // A batch with no earlier batch of its groups (every batch, on a standard queue without group keys) starts at once.
    const run = before.size === 0 ? start() : Promise.all(before).then(start);
    for (const e of batch) if (e.group !== undefined) lastOfGroup.set(e.group, run);
    return run;
  });
  const abortAll = (batch: ReadonlyArray<Prepared>): void => {
    for (const e of batch) failed(e, { code: SendFailureCode.aborted, senderFault: false, retryable: true, judged: false, message: 'aborted before it was sent' });
  };
  await Promise.all(runs);
}

/** Where to cut a list of entries in two: the point that best halves the bytes, never empty. */
function splitPoint(entries: ReadonlyArray<Prepared>): number {
  const total = sum(entries);
  let acc = 0;
  for (let i = 0; i < entries.length - 1; i++) {
    acc += entries[i]!.bytes;
    if (acc * 2 >= total) return i + 1;
  }
  return entries.length - 1;
}
