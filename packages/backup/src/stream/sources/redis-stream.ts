/**
 * A Redis stream as a streaming source: entries read with `XRANGE` after the checkpointed id.
 * Entries hold either an outbox envelope (field `envelope`, JSON: see `outboxRedisStream`) or
 * arbitrary fields (archived as events). A trim past the checkpoint (`XINFO STREAM`'s
 * `max-deleted-entry-id`, Redis ≥ 7.0) is a gap.
 */
import { intOption, invalidOption, stringOption } from '@steadyfn/handler/internal';
import type { RedisLike } from '../../sources/redis.js';
import { resolveClient, type ClientInput } from '../../sources/types.js';
import type { PulledBatch, StreamSource } from '../types.js';
import { envelopesToBatch } from './outbox.js';

/** Options of `redisStreamSource()`. */
export interface RedisStreamSourceOptions {
  client: ClientInput<RedisLike>;
  /** The stream's key. */
  key: string;
  /** Entries hold outbox envelopes in this field (JSON). Without it, entries are archived as events. */
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

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/**
 * A Redis stream source.
 *
 * @example
 * const source = redisStreamSource({ client: redis, key: 'outbox:events', envelopeField: 'envelope' });
 * @throws {ConfigurationError} a missing client or key
 */
export function redisStreamSource(options: RedisStreamSourceOptions): StreamSource {
  if (options === null || typeof options !== 'object' || !options.client) invalidOption('redisStreamSource', 'client', 'an ioredis client or a function giving one', options?.client);
  const key = stringOption('redisStreamSource', 'key', options.key);
  const envelopeField = options.envelopeField === undefined ? undefined : stringOption('redisStreamSource', 'envelopeField', options.envelopeField);
  const count = intOption('redisStreamSource', 'count', options.count, 1000, 1, 100_000);

  return {
    kind: 'redis-stream',
    async pull(from, max, _signal): Promise<PulledBatch> {
      const client = await resolveClient(options.client);
      let gap: string | undefined;
      if (from.position !== null) {
        const info = (await client.call('XINFO', 'STREAM', key).catch(() => null)) as unknown[] | null;
        const fields = info ? fieldsOf(info.map(String)) : {};
        const deleted = fields['max-deleted-entry-id'];
        if (deleted !== undefined && deleted !== '0-0' && padStreamId(deleted) > from.position) gap = `stream ${key} was trimmed past the checkpoint (max deleted id ${deleted})`;
      }
      const start = from.position === null ? '-' : `(${unpadStreamId(from.position)}`;
      const entries = (await client.call('XRANGE', key, start, '+', 'COUNT', Math.min(max, count))) as Array<[string, string[]]>;
      const drained = entries.length < Math.min(max, count);
      if (envelopeField) {
        const batch = envelopesToBatch(
          entries.map(([id, flat]) => ({ envelope: JSON.parse(fieldsOf(flat)[envelopeField] ?? 'null') as unknown, position: padStreamId(id) })),
          from.state,
          drained,
        );
        return gap ? { ...batch, gap: batch.gap ? `${gap}; ${batch.gap}` : gap } : batch;
      }
      const records = entries.map(([id, flat]) => ({
        id: `${key}/${id}`,
        position: padStreamId(id),
        time: new Date(Number(id.split('-')[0])).toISOString(),
        op: 'event' as const,
        payload: fieldsOf(flat),
      }));
      return { records, drained, ...(gap ? { gap } : {}) };
    },
  };
}
