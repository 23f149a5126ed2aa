/** Events in a Redis stream, read with XRANGE after the snapshot's entry id, page by page. */
import { checkKnownKeys, clientOption, keysOf, setOwn, stringOption } from '@steadyfn/handler/internal';
import type { ClientInput } from '../types.js';
import { functionOption } from '../options.js';
import { abortReason, resolveClient } from '../util.js';
import type { EventStore } from './types.js';

/** The one ioredis call used; an ioredis `Redis` or `Cluster` fits. */
export interface RedisStreamReader {
  /** `XRANGE key start end COUNT count`: entries as `[id, [field, value, …]]`. */
  xrange(key: string, start: string, end: string, countToken: 'COUNT', count: number): Promise<[id: string, fields: string[]][]>;
}

/** Options of `redisStreamEvents()`. */
export interface RedisStreamEventsOptions<E> {
  /** An ioredis client (anything with `xrange`), or a function returning one. */
  client: ClientInput<RedisStreamReader>;
  /** The stream's key. */
  key: string;
  /** Turns an entry's fields into an event. Default: the fields as an object of strings. */
  decode?: (fields: Record<string, string>, id: string) => E;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const STREAM_KEYS = keysOf<RedisStreamEventsOptions<unknown>>({ client: true, key: true, decode: true });

/**
 * Events from a Redis stream; positions are entry ids (`1700000000000-0`).
 * @throws ConfigurationError (`CONFIG_INVALID`) for a `client` without `xrange`, an empty `key`, or a `decode` that is not a function.
 */
export function redisStreamEvents<E = Record<string, string>>(options: RedisStreamEventsOptions<E>): EventStore<E, string> {
  checkKnownKeys('redisStreamEvents', '', options, STREAM_KEYS);
  clientOption('redisStreamEvents', 'client', options.client, ['xrange'], 'an ioredis Redis or Cluster');
  stringOption('redisStreamEvents', 'key', options.key);
  functionOption('redisStreamEvents', 'decode', options.decode, 'a function (fields, id) => event');
  const key = options.key;
  return {
    description: `redis stream ${key}`,
    async readAfter(after, limit, signal) {
      const client = await resolveClient(options.client);
      if (signal.aborted) throw abortReason(signal);
      // `(id` is exclusive (Redis 6.2+): the entry at the snapshot's position is not read again.
      const entries = await client.xrange(key, after === undefined ? '-' : `(${after}`, '+', 'COUNT', limit);
      return entries.map(([id, flat]) => {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) setOwn(fields, flat[i]!, flat[i + 1]!);
        return { position: id, event: options.decode ? options.decode(fields, id) : (fields as E) };
      });
    },
  };
}
