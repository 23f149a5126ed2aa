/**
 * One invocation of a stream backup: take the stream's lease, pull from the source after the
 * checkpointed position, flush the buffer into an object whenever it reaches `maxBytes` or
 * holds records older than `maxMs` (and when the source is drained: nothing is kept in memory
 * across invocations), checkpoint after each object and then acknowledge its records to the
 * source (SQS deletes them).
 * A gap reported by the source ends the timeline: later objects go to a new timeline, and a
 * new snapshot is needed before point-in-time restore can reach past the gap.
 */
import { ConfigurationError, DeadlineExceededError } from '@steadyfn/handler/internal';
import { logOf, remaining, warnUnderReserve, type RunContext } from '../context.js';
import { BackupError, StorageError, describeError, sourceErrorOf } from '../errors.js';
import { takeJobLease, type JobLease } from '../job-lease.js';
import { openChainedObject, type ChainedObject } from '../s3/chained-object.js';
import type { S3Location } from '../s3/client.js';
import { probeS3, type S3Capabilities } from '../s3/probe.js';
import { keys } from '../target.js';
import { dropRepeats, writeStreamObject } from './objects.js';
import type { StreamRecord, StreamResult, StreamSource } from './types.js';
import { parseStreamCheckpoint, serializeStreamCheckpoint, streamCheckpointSchema, type StreamCheckpoint } from './checkpoint.js';
import { checkSameSource, identityOf } from './source-identity.js';

export type { StreamCheckpoint } from './checkpoint.js';
export type { StreamResult } from './types.js';

/** Validated options the run needs. */
export interface StreamRunOptions {
  name: string;
  source: StreamSource;
  loc: S3Location;
  maxBytes: number;
  maxMs: number;
  maxRecords: number;
  leaseMs: number;
  reserveMs: number;
  coverageLagMs: number;
  onTimelineBroken?: (info: { name: string; timeline: number; reason: string }) => void | Promise<void>;
}

/** An open stream: lease held, checkpoint loaded. */
interface OpenStream {
  loc: S3Location;
  caps: S3Capabilities;
  state: StreamCheckpoint;
  checkpoint: ChainedObject<StreamCheckpoint>;
  lease: JobLease;
}

async function openStream(options: StreamRunOptions, ctx: RunContext): Promise<OpenStream> {
  const { client, capabilities } = await probeS3(options.loc, ctx.signal);
  const loc = { ...options.loc, client };
  const lease = await takeJobLease(loc, { key: keys.streamLease(options.name), label: `stream backup "${options.name}"`, leaseMs: options.leaseMs }, ctx.signal);
  let opened: { value: StreamCheckpoint | undefined; object: ChainedObject<StreamCheckpoint> };
  let source: StreamCheckpoint['source'];
  try {
    const key = keys.streamCheckpoint(loc, options.name);
    const what = `stream "${options.name}" checkpoint`;
    opened = await typed(loc, `stream "${options.name}": reading the checkpoint`, () => openChainedObject(loc, capabilities, key, { schema: streamCheckpointSchema, what, version: 1, parse: (text, at) => parseStreamCheckpoint(text, at, what), serialize: serializeStreamCheckpoint }, ctx.signal), ctx.signal);
    // Before any pull or write: the checkpoint's position is only its own source's (source-identity.ts).
    source = await typed('source', `stream "${options.name}": identifying the source`, () => identityOf(options.source, ctx.signal), ctx.signal);
    checkSameSource(options.name, opened.value?.source, source);
  } catch (error) {
    await lease.release().catch(() => undefined);
    throw error;
  }
  const now = new Date().toISOString();
  // A checkpoint written before it named its source is named by its next save.
  const state: StreamCheckpoint = opened.value
    ? { ...opened.value, source, fence: lease.fence(), owner: lease.owner }
    : { formatVersion: 1, name: options.name, source, fence: lease.fence(), owner: lease.owner, timeline: 1, seq: 0, position: null, sourceState: undefined, coveredUntil: null, timelines: [{ id: 1, startedAt: now }], hours: [], updatedAt: now };
  return { loc, caps: capabilities, state, checkpoint: opened.object, lease };
}

/**
 * Runs a call to the source (`'source'`) or to S3 (the location it addresses); a source's
 * `ConfigurationError` passes unchanged; any other failure than a typed one becomes `SourceReadError` (`SourceRefusedError` for refused credentials) or
 * `StorageError` naming the bucket (class and code only: driver messages may carry addresses or
 * secrets). A call the signal ended rejects with the signal's reason.
 */
async function typed<T>(on: 'source' | S3Location, what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    if (error instanceof BackupError) throw error;
    // A source refusing its options (a client with keyPrefix) is the job's, as in a snapshot run.
    if (on === 'source' && error instanceof ConfigurationError) throw error;
    if (on === 'source') throw sourceErrorOf(error, what);
    throw new StorageError(`${what} failed on bucket "${on.bucket}" (${describeError(error)})`, error, { bucket: on.bucket });
  }
}

/** Writes `records` as the next object and checkpoints (position, source state, hours). */
async function flush(open: OpenStream, name: string, records: StreamRecord[], sourceState: unknown, signal?: AbortSignal): Promise<void> {
  await typed(open.loc, `stream "${name}": writing an object`, () => writeAndCheckpoint(open, name, records, sourceState, signal), signal);
}

async function writeAndCheckpoint(open: OpenStream, name: string, records: StreamRecord[], sourceState: unknown, signal?: AbortSignal): Promise<void> {
  const { state } = open;
  const seq = state.seq + 1;
  const { entry, hour, repeated } = await writeStreamObject(open.loc, open.caps, name, state.timeline, seq, state.position, records, signal);
  const known = state.hours.find((h) => h.timeline === state.timeline && h.hour === hour);
  if (known) known.lastSeq = seq;
  else state.hours.push({ timeline: state.timeline, hour, firstSeq: seq, lastSeq: seq });
  state.seq = seq;
  state.position = entry.last;
  state.sourceState = sourceState;
  state.updatedAt = new Date().toISOString();
  await open.checkpoint.save(state, signal);
  // The checkpoint names this object: another entry of its number is a dead sink's (see
  // objects.ts). A failed removal leaves it listed, read past by `withoutRepeats`: the object
  // and its checkpoint are committed, so the run goes on (its records still to acknowledge).
  if (repeated) await dropRepeats(open.loc, open.caps, name, hour, entry, signal).catch((error: unknown) => {
    if (signal?.aborted) throw error;
  });
}

/** Ends the current timeline after a gap and starts the next one. */
async function breakTimeline(open: OpenStream, options: StreamRunOptions, reason: string): Promise<void> {
  const { state } = open;
  const now = new Date().toISOString();
  const current = state.timelines.find((t) => t.id === state.timeline)!;
  // Complete up to the last drain; anything after it may be what was lost.
  current.brokenAt = state.coveredUntil ?? now;
  current.reason = reason;
  state.timeline += 1;
  state.seq = 0;
  state.timelines.push({ id: state.timeline, startedAt: now });
  state.updatedAt = now;
  await typed(open.loc, `stream "${options.name}": saving the checkpoint`, () => open.checkpoint.save(state));
  await options.onTimelineBroken?.({ name: options.name, timeline: state.timeline, reason });
}

/** Drains the source into objects until it is empty or the deadline nears. */
export async function runStream(options: StreamRunOptions, ctx: RunContext = {}): Promise<StreamResult> {
  const log = logOf(ctx);
  // No time past the reserve: stop before any work — no S3 probe, no lease, no checkpoint read,
  // no pull (those took seconds, past a 3 s function's deadline, and a run cut off there held
  // the stream's lease for the next invocations).
  if (warnUnderReserve(ctx, options.reserveMs, `stream "${options.name}"`)) {
    log.info('stream backup', { name: options.name, objects: 0, records: 0, reason: 'deadline' });
    return { name: options.name, objects: 0, records: 0, timelineBroken: false, snapshotRequired: false, stoppedEarly: true, reason: 'deadline' };
  }
  const open = await openStream(options, ctx);
  const { state } = open;
  // When the stream last ran, for the source's gap checks (SQS retention); once a gap broke the
  // timeline in this run, the stream runs now: the next pulls must not report the same gap again.
  let lastRunAt = state.updatedAt;
  const result: StreamResult = { name: options.name, objects: 0, records: 0, timeline: state.timeline, timelineBroken: false, snapshotRequired: false, stoppedEarly: false };
  let buffer: StreamRecord[] = [];
  let bufferBytes = 0;
  let bufferStarted = 0;
  let pulledPosition = state.position;
  let pulledState = state.sourceState;
  /** Writes the buffer as the next object, checkpoints, then acknowledges its records to the source. */
  const commit = async (): Promise<void> => {
    await flush(open, options.name, buffer, pulledState, ctx.signal);
    result.objects++;
    result.records += buffer.length;
    // In S3 and checkpointed: the source may forget them (SQS deletes; a FIFO group then
    // delivers its next messages).
    await typed('source', `stream "${options.name}": acknowledging records to the source`, async () => options.source.ack?.(buffer, ctx.signal, logOf(ctx)), ctx.signal);
    buffer = [];
    bufferBytes = 0;
  };
  try {
    for (;;) {
      const lost = open.lease.failure();
      if (lost) throw lost;
      if (ctx.signal?.aborted || remaining(ctx) < options.reserveMs) {
        result.stoppedEarly = true;
        result.reason = ctx.signal?.aborted ? 'signal' : 'deadline';
        // What was pulled is written in the reserve: dropped, it would be pulled again next time
        // and, from a source that never goes quiet, never archived.
        if (buffer.length > 0 && !ctx.signal?.aborted) await commit();
        break;
      }
      const pullStarted = Date.now();
      const returnBy = Math.min((buffer.length > 0 ? bufferStarted : pullStarted) + options.maxMs, pullStarted + remaining(ctx) - options.reserveMs);
      const batch = await typed('source', `stream "${options.name}": reading the source`, () => options.source.pull({ position: pulledPosition, state: pulledState, lastRunAt, returnBy }, options.maxRecords, ctx.signal), ctx.signal);
      if (batch.gap) {
        // What was pulled before the gap was seen goes to the old timeline (acknowledged, like any
        // object written: SQS deletes its messages); then a new one starts.
        if (buffer.length > 0) await commit();
        // The source's reason can name an aggregate id (an outbox seq gap): it goes to the
        // checkpoint and onTimelineBroken, not to the log.
        log.warn('stream backup timeline broken', { name: options.name, timeline: state.timeline });
        await breakTimeline(open, options, batch.gap);
        lastRunAt = state.updatedAt;
        result.timelineBroken = true;
      }
      if (batch.records.length > 0) {
        if (buffer.length === 0) bufferStarted = Date.now();
        for (const record of batch.records) {
          buffer.push(record);
          bufferBytes += JSON.stringify(record).length + 1;
        }
        pulledPosition = batch.records.at(-1)!.position;
      }
      pulledState = batch.state ?? pulledState;
      for (const notice of batch.notices ?? []) {
        // Codes, counts and a key only: a notice never carries record contents.
        log.warn('stream source notice', { name: options.name, code: notice.code, count: notice.count, ...(notice.countCapped ? { countCapped: true } : {}), ...(notice.key === undefined ? {} : { key: notice.key }) });
        (result.notices ??= []).push(notice);
      }
      const full = bufferBytes >= options.maxBytes || (buffer.length > 0 && Date.now() - bufferStarted >= options.maxMs);
      if (buffer.length > 0 && (full || batch.drained)) await commit();
      if (batch.drained && batch.records.length === 0) {
        // What the source learned on a pull that found nothing (a Redis stream's removal
        // counter) is checkpointed too: dropped, the next run would take entries removed in
        // between as its new base and miss the gap.
        state.sourceState = pulledState;
        state.coveredUntil = new Date(pullStarted - options.coverageLagMs).toISOString();
        state.updatedAt = new Date().toISOString();
        await typed(open.loc, `stream "${options.name}": saving the checkpoint`, () => open.checkpoint.save(state, ctx.signal), ctx.signal);
        break;
      }
    }
    await open.lease.release();
  } catch (error) {
    await open.lease.release().catch(() => undefined);
    throw error;
  }
  result.timeline = state.timeline;
  result.snapshotRequired = result.timelineBroken;
  log.info('stream backup', { name: options.name, objects: result.objects, records: result.records, timeline: result.timeline });
  return result;
}

/**
 * Push mode: writes `records` (one batch, e.g. what an outbox relay hands over) as one object
 * and checkpoints. A retried call with the same batch adopts the object written before. A call
 * with no time past `reserveMs` at its start writes nothing and throws `DeadlineExceededError`.
 */
export async function appendRecords(options: StreamRunOptions, prepare: (previous: unknown) => { records: StreamRecord[]; state?: unknown; gap?: string }, ctx: RunContext = {}): Promise<StreamResult> {
  // The pull path's reserve: a call with no time past it does nothing — no S3 probe, lease or
  // checkpoint read, which could run past the deadline and leave the stream's lease held. Unlike
  // `run` (whose source keeps what it did not read), it throws: the batch was handed over, and a
  // resolved call is the caller's sign to acknowledge it.
  if (warnUnderReserve(ctx, options.reserveMs, `stream "${options.name}" append`)) {
    throw new DeadlineExceededError(`Stream "${options.name}" append: no time past reserveMs (${options.reserveMs} ms) left; nothing was written — hand the batch over again in an invocation with time`);
  }
  const open = await openStream(options, ctx);
  const result: StreamResult = { name: options.name, objects: 0, records: 0, timeline: open.state.timeline, timelineBroken: false, snapshotRequired: false, stoppedEarly: false };
  try {
    const { records, state, gap } = prepare(open.state.sourceState);
    if (gap) {
      await breakTimeline(open, options, gap);
      result.timelineBroken = result.snapshotRequired = true;
    }
    if (records.length > 0) {
      await flush(open, options.name, records, state, ctx.signal);
      result.objects = 1;
      result.records = records.length;
      const newest = records.map((r) => r.time).sort().at(-1)!;
      if (!open.state.coveredUntil || newest > open.state.coveredUntil) {
        open.state.coveredUntil = newest;
        await typed(open.loc, `stream "${options.name}": saving the checkpoint`, () => open.checkpoint.save(open.state, ctx.signal), ctx.signal);
      }
    }
    await open.lease.release();
  } catch (error) {
    await open.lease.release().catch(() => undefined);
    throw error;
  }
  result.timeline = open.state.timeline;
  return result;
}
