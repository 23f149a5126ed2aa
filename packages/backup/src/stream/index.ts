/**
 * `streamBackup()`: a continuous copy of every change (outbox events, SQS messages, Redis
 * stream entries, watermark-tailed documents) into S3, run inside a function.
 */
import { checkKnownKeys, intOption, invalidOption, msOption, keysOf } from '@steadyfn/handler/internal';
import { streamNameOption, writtenStreamNameOption } from './name.js';
import { MIN_RESERVE_MS, type RunContext } from '../context.js';
import { toLocation, type S3Target } from '../target.js';
import { appendRecords, runStream, type StreamResult, type StreamRunOptions } from './run.js';
import { envelopesToBatch, type OutboxEnvelope } from './sources/outbox.js';
import type { StreamSource } from './types.js';

/** Options of `streamBackup()`. */
export interface StreamBackupOptions {
  /** Names the stream: its objects, index and checkpoint live under `streams/<name>/`. Snapshots refer to it (`snapshotBackup({ stream })`). */
  name: string;
  /** Where records come from (not needed for push mode: `append`). */
  source?: StreamSource;
  /** Where: `{ client, bucket, prefix? }` (the same target as the snapshots it pairs with). */
  target: S3Target;
  /**
   * When to flush the buffer into an object: at `maxBytes` of records, or when its oldest
   * record was buffered `maxMs` ago; always when the source is drained.
   * @default { maxBytes: 5 MiB, maxMs: 60000 }
   */
  buffer?: { maxBytes?: number; maxMs?: number };
  /** Records per pull. @default 1000 */
  maxRecords?: number;
  /** How long the stream's lease lasts. @default 60000 */
  leaseMs?: number;
  /**
   * Time kept free before the deadline to write what was pulled (ms, at least 1,000: less is
   * refused with `ConfigurationError`; with `0` a run whose `remainingMs()` stops at 0, as the
   * handler's does, never stopped pulling). The function's timeout must be longer: a run that
   * starts with no more time does nothing — no S3 request, no lease, no pull — returns
   * `stoppedEarly`, `reason: 'deadline'`, without `timeline`, and warns on `ctx.log`.
   * @default 5000
   */
  reserveMs?: number;
  /**
   * How far behind the drain time the stream counts as complete (`coveredUntil`), for sources
   * whose records arrive late (a relay that lags, a watermark with `lagMs`). @default 0
   */
  coverageLagMs?: number;
  /**
   * Called when a gap breaks the timeline (e.g. to start a snapshot job). `reason` is the source's
   * (it can name an aggregate id, as an outbox `seq` gap does): the run's own log leaves it out.
   */
  onTimelineBroken?: (info: { name: string; timeline: number; reason: string }) => void | Promise<void>;
}

/** A stream backup job. */
export interface StreamJob {
  /** Runs one invocation (input ignored): pull, buffer, write objects until drained or the deadline nears. */
  (input: unknown, ctx?: RunContext): Promise<StreamResult>;
  run(ctx?: RunContext): Promise<StreamResult>;
  /**
   * Push mode for outbox events handed in by a relay: writes the batch as one object and
   * checkpoints before resolving (acknowledge the batch to the relay only then). The position
   * of an event is its id (UUIDv7). A `seq` jump per aggregate breaks the timeline. Honours
   * `reserveMs` as `run` does: a call whose `ctx.remainingMs()` is not past it at the start
   * writes nothing — no S3 request, no lease — logs a warning on `ctx.log` and throws
   * `DeadlineExceededError` (`DEADLINE_EXCEEDED`, 504, retryable; from `@steadyfn/handler`), so a
   * caller that acknowledges on success keeps the batch: hand it over again with time.
   *
   * @throws DeadlineExceededError when no time past `reserveMs` is left at the start.
   */
  append(envelopes: OutboxEnvelope[], ctx?: RunContext): Promise<StreamResult>;
}

const OWNER = 'streamBackup';
const KEYS = keysOf<StreamBackupOptions>({
  name: true,
  source: true,
  target: true,
  buffer: true,
  maxRecords: true,
  leaseMs: true,
  reserveMs: true,
  coverageLagMs: true,
  onTimelineBroken: true,
});
const BUFFER_KEYS = keysOf<NonNullable<StreamBackupOptions['buffer']>>({ maxBytes: true, maxMs: true });

/**
 * Defines a stream backup.
 *
 * @example
 * const archive = streamBackup({
 *   name: 'orders',
 *   source: redisStreamSource({ client: redis, key: 'outbox:{orders}:events', envelopeField: 'e' }),
 *   target: { client: s3, bucket: 'backups', prefix: 'shop' },
 *   buffer: { maxBytes: 8 * 1024 * 1024, maxMs: 60_000 },
 * });
 * export const everyMinute = handler({}, archive);
 * @throws {ConfigurationError} an invalid option
 * @throws {LeaseHeldError} another runner holds the stream (retryable)
 * @throws {FencedError} another runner took the stream over (retryable)
 */
export function streamBackup(options: StreamBackupOptions): StreamJob {
  if (options === null || typeof options !== 'object') invalidOption(OWNER, 'options', 'an object', options);
  checkKnownKeys(OWNER, '', options, KEYS);
  streamNameOption(OWNER, 'name', options.name);
  if (options.source !== undefined && (typeof options.source !== 'object' || typeof options.source.pull !== 'function')) invalidOption(OWNER, 'source', 'a stream source', options.source);
  const loc = toLocation(OWNER, options.target);
  const name = writtenStreamNameOption(OWNER, 'name', options.name, loc);
  if (options.buffer !== undefined && (options.buffer === null || typeof options.buffer !== 'object')) invalidOption(OWNER, 'buffer', 'an object { maxBytes?, maxMs? }', options.buffer);
  checkKnownKeys(OWNER, 'buffer', options.buffer, BUFFER_KEYS);
  if (options.onTimelineBroken !== undefined && typeof options.onTimelineBroken !== 'function') invalidOption(OWNER, 'onTimelineBroken', 'a function ({ name, timeline, reason }) => void', options.onTimelineBroken);
  const run: StreamRunOptions = {
    name,
    source: options.source ?? { kind: 'push', pull: async () => ({ records: [], drained: true }) },
    loc,
    maxBytes: intOption(OWNER, 'buffer.maxBytes', options.buffer?.maxBytes, 5 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxMs: msOption(OWNER, 'buffer.maxMs', options.buffer?.maxMs, 60_000),
    maxRecords: intOption(OWNER, 'maxRecords', options.maxRecords, 1000, 1, 100_000),
    leaseMs: msOption(OWNER, 'leaseMs', options.leaseMs, 60_000, 1000),
    reserveMs: msOption(OWNER, 'reserveMs', options.reserveMs, 5_000, MIN_RESERVE_MS),
    coverageLagMs: msOption(OWNER, 'coverageLagMs', options.coverageLagMs, 0, 0),
    ...(options.onTimelineBroken ? { onTimelineBroken: options.onTimelineBroken } : {}),
  };
  const job = ((_input: unknown, ctx?: RunContext) => runStream(run, ctx)) as StreamJob;
  job.run = (ctx) => runStream(run, ctx);
  job.append = (envelopes, ctx) => {
    if (!Array.isArray(envelopes)) invalidOption('append', 'envelopes', 'an array of outbox envelopes', envelopes);
    const positioned = envelopes.map((envelope) => ({ envelope, position: String((envelope as { id?: unknown } | null)?.id ?? '') }));
    return appendRecords(run, (previous) => envelopesToBatch(positioned, previous, true), ctx);
  };
  return job;
}
