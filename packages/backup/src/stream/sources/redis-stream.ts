/**
 * A Redis stream as a streaming source: entries read with `XRANGE` after the checkpointed id.
 * Entries hold either an outbox envelope (JSON in `envelopeField`: `@steadyfn/outbox`'s
 * `redisOutbox` writes field `e` of `outbox:{<tag>}:events`) or arbitrary fields (archived as events). Entries trimmed or deleted before they were archived
 * are a gap, checked with `XINFO STREAM` (Redis ≥ 7.0) after each read: a `max-deleted-entry-id`
 * past the last archived id, new since the previous read and not one just read, is an entry
 * deleted before it was archived; trims (which do not move `max-deleted-entry-id`) are counted:
 * `entries-added` − `length` counts removals, and more removals than archived entries since the
 * stream backup started means some were lost.
 */
import { checkKnownKeys, intOption, invalidOption, stringOption, keysOf } from '@steadyfn/handler/internal';
import type { RedisLike } from '../../sources/redis.js';
import type { ClientInput } from '../../sources/types.js';
import { resolveRedis, unprefixedRedis } from '../../sources/redis-unprefixed.js';
import type { PulledBatch, StreamSource } from '../types.js';
import { SourceRecordInvalidError } from '../../errors.js';
import { envelopesToBatch, parseEnvelopeText } from './outbox.js';

/** Options of `redisStreamSource()`. */
export interface RedisStreamSourceOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a function giving one (asked on every run). A client with
   * the ioredis `keyPrefix` option is refused (`ConfigurationError`, code `REDIS_CLIENT_KEY_PREFIX`):
   * give the stream's full `key` to a client without one.
   */
  client: ClientInput<RedisLike>;
  /** The stream's key (its full name: a client's `keyPrefix` is refused). */
  key: string;
  /**
   * Entries hold outbox envelopes in this field (JSON; `e` for `@steadyfn/outbox`'s `redisOutbox`). An
   * entry without it is a `SourceRecordInvalidError` naming the fields it has. Without it, entries
   * are archived as events.
   */
  envelopeField?: string;
  /** Entries per read. @default 1000 */
  count?: number;
}

/** Redis stream ids compare as (ms, seq); zero-padded they also compare as strings. */
export function padStreamId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${(ms ?? '0').padStart(15, '0')}-${(seq ?? '0').padStart(10, '0')}`;
}

/** The Redis id of a padded position. */
export function unpadStreamId(position: string): string {
  const [ms, seq] = position.split('-');
  return `${BigInt(ms ?? '0')}-${BigInt(seq ?? '0')}`;
}

interface RedisStreamState {
  /** Per-aggregate seq (outbox envelopes). */
  outbox?: unknown;
  /** Entries removed from the stream when we started, and entries archived since. */
  counter?: { removedBase: number; archived: number };
  /** `XINFO STREAM`'s `max-deleted-entry-id` at the previous read, padded (Redis ≥ 7.0). */
  deleted?: string;
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** The envelope text in `field` of an entry; an entry without that field names the fields it has. */
function envelopeOf(fields: Record<string, string>, field: string, position: string): unknown {
  if (!Object.hasOwn(fields, field)) {
    const has = Object.keys(fields).slice(0, 20).map((name) => (name.length > 64 ? `${name.slice(0, 64)}…` : name)).join(', ');
    throw new SourceRecordInvalidError(
      `the source record at position ${position} is not an outbox envelope (no field "${field}": the entry has ${has || 'no fields'}; @steadyfn/outbox's Redis streams keep the envelope in field "e"); nothing of its batch was archived`,
      [{ key: position, message: `no field "${field}"` }],
    );
  }
  return parseEnvelopeText(fields[field], position);
}

/** `XRANGE` and `XINFO STREAM` in one `MULTI`; the info is null where `XINFO STREAM` fails (no stream yet). */
async function readAtOnce(client: RedisLike, key: string, start: string, limit: number): Promise<[Array<[string, string[]]>, unknown[] | null]> {
  const pipeline = client.pipeline();
  pipeline.call('MULTI');
  pipeline.call('XRANGE', key, start, '+', 'COUNT', limit);
  pipeline.call('XINFO', 'STREAM', key);
  pipeline.call('EXEC');
  const replies = await pipeline.exec();
  const failed = replies?.find(([error]) => error !== null)?.[0];
  if (failed) throw failed;
  const results = replies?.[3]?.[1];
  if (!Array.isArray(results)) throw new Error(`the read of stream ${key} was not executed`);
  const [entries, info] = results as [unknown, unknown];
  if (entries instanceof Error) throw entries;
  return [entries as Array<[string, string[]]>, Array.isArray(info) ? info : null];
}

/**
 * A Redis stream source.
 *
 * @example
 * const source = redisStreamSource({ client: redis, key: 'outbox:{orders}:events', envelopeField: 'e' });
 * @throws {ConfigurationError} a missing client or key; a client with an ioredis `keyPrefix` (code
 * `REDIS_CLIENT_KEY_PREFIX`, field `client`: the stream would be known by a name it does not have,
 * and two prefixes on one key would be one source), now or, from a getter, when a run identifies
 * its source (before anything is read or written)
 */
export function redisStreamSource(options: RedisStreamSourceOptions): StreamSource {
  checkKnownKeys('redisStreamSource', '', options, keysOf<RedisStreamSourceOptions>({ client: true, key: true, envelopeField: true, count: true }));
  if (options === null || typeof options !== 'object' || !options.client) invalidOption('redisStreamSource', 'client', 'an ioredis client or a function giving one', options?.client);
  // A client given directly is checked now; one from a getter on every use (identity, pull).
  if (typeof options.client !== 'function') unprefixedRedis('redisStreamSource', options.client);
  const key = stringOption('redisStreamSource', 'key', options.key);
  const envelopeField = options.envelopeField === undefined ? undefined : stringOption('redisStreamSource', 'envelopeField', options.envelopeField);
  const count = intOption('redisStreamSource', 'count', options.count, 1000, 1, 100_000);

  return {
    kind: 'redis-stream',
    async identity() {
      // The key is the stream's name only through a client without keyPrefix.
      await resolveRedis('redisStreamSource', options.client);
      return key;
    },
    async pull(from, max, _signal): Promise<PulledBatch> {
      const client = await resolveRedis('redisStreamSource', options.client);
      const previous = (from.state as RedisStreamState | undefined) ?? {};
      const start = from.position === null ? '-' : `(${unpadStreamId(from.position)}`;
      const limit = Math.min(max, count);
      // One transaction: the entries and the stream's counters at the same moment, so an entry
      // is either among those read or removed before the read (never removed in between).
      const [entries, info] = await readAtOnce(client, key, start, limit);
      const drained = entries.length < limit;
      const fields = info ? fieldsOf(info.map((v) => (Array.isArray(v) ? '' : String(v)))) : {};
      const gaps: string[] = [];
      // Deleted (XDEL): the latest deleted id past the last archived one, not seen at the previous
      // read and not among the entries just read, was deleted before it was archived. The first
      // read only takes the base (removals before the backup started are not its gap).
      const maxDeleted = fields['max-deleted-entry-id'] ? padStreamId(fields['max-deleted-entry-id']) : undefined;
      if (
        maxDeleted !== undefined && previous.deleted !== undefined && maxDeleted > previous.deleted &&
        (from.position === null || maxDeleted > from.position) && !entries.some(([id]) => padStreamId(id) === maxDeleted)
      ) {
        gaps.push(`stream ${key} lost entries before they were archived (deleted: entry ${unpadStreamId(maxDeleted)} is past the last archived ${from.position === null ? 'none' : unpadStreamId(from.position)})`);
      }
      // Removed (trimmed or deleted) = entries ever added − length. More removed since we started
      // than we archived means some were removed before we saw them: a gap.
      const removed = fields['entries-added'] !== undefined && fields.length !== undefined ? Number(fields['entries-added']) - Number(fields.length) : undefined;
      let counter = previous.counter ?? (removed === undefined ? undefined : { removedBase: removed, archived: 0 });
      if (counter && removed !== undefined && removed - counter.removedBase > counter.archived) {
        if (gaps.length === 0) gaps.push(`stream ${key} lost ${removed - counter.removedBase - counter.archived} entries before they were archived (trimmed or deleted)`);
        counter = { removedBase: removed - counter.archived, archived: counter.archived };
      }
      if (counter) counter = { ...counter, archived: counter.archived + entries.length };
      let batch: PulledBatch;
      if (envelopeField) {
        batch = envelopesToBatch(
          entries.map(([id, flat]) => ({ envelope: envelopeOf(fieldsOf(flat), envelopeField, padStreamId(id)), position: padStreamId(id) })),
          previous.outbox,
          drained,
        );
      } else {
        batch = {
          records: entries.map(([id, flat]) => ({ id: `${key}/${id}`, position: padStreamId(id), time: new Date(Number(id.split('-')[0])).toISOString(), op: 'event' as const, payload: fieldsOf(flat) })),
          drained,
        };
      }
      const deleted = maxDeleted ?? previous.deleted;
      const state: RedisStreamState = { ...(batch.state === undefined ? {} : { outbox: batch.state }), ...(counter ? { counter } : {}), ...(deleted === undefined ? {} : { deleted }) };
      if (batch.gap !== undefined) gaps.push(batch.gap);
      return { records: batch.records, drained, state, ...(gaps.length > 0 ? { gap: gaps.join('; ') } : {}) };
    },
  };
}
