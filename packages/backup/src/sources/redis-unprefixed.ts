/**
 * A Redis source, stream source or target refuses an ioredis client with a `keyPrefix`. ioredis prefixes the
 * keys of key commands but not `SCAN … MATCH` patterns, and returns the full names `SCAN`
 * finds (redis/ioredis#1526, #169): a backup through such a client found keys it then read
 * under the prefix twice (none there), and reported `complete` with 0 records; a restore's
 * emptiness check scanned the unprefixed names and overwrote data under the client's prefix.
 * The target's own `keyPrefix` option does what the client's would, with every step aware of it.
 * A stream source through such a client read `<prefix><key>` but named it `<key>` (record ids, gap
 * messages, the checkpoint's source identity): two prefixes on one key were one source, and a
 * stream backup switched between them skipped entries without a gap.
 */
import { ConfigurationError, redisKeyPrefix } from '@steadyfn/handler/internal';
import { resolveClient, type ClientInput } from './types.js';

/** Who asks: the message says what to pass instead. */
export type RedisClientOwner = 'redisSource' | 'redisTarget' | 'redisStreamSource';

/**
 * `client`, refused with a `ConfigurationError` (code `REDIS_CLIENT_KEY_PREFIX`, field `client`)
 * when it has an ioredis `keyPrefix` (a `Cluster`'s own, or its `redisOptions.keyPrefix`).
 * @throws {ConfigurationError} a client with a `keyPrefix`
 */
export function unprefixedRedis<T>(owner: RedisClientOwner, client: T): T {
  const prefix = redisKeyPrefix(client);
  if (prefix === '') return client;
  const instead =
    owner === 'redisTarget'
      ? `use a client without keyPrefix and pass redisTarget({ keyPrefix: ${JSON.stringify(prefix)} }) instead`
      : owner === 'redisStreamSource'
        ? `use a client without keyPrefix, with the stream's full key (${JSON.stringify(prefix)} + key), which its records and checkpoint are named by`
        : `use a client without keyPrefix, with pattern: ${JSON.stringify(`${prefix}*`)} (the keys are backed up under their full names)`;
  throw new ConfigurationError(
    `${owner}(): option "client" must be an ioredis client without the keyPrefix option (${owner === 'redisStreamSource' ? 'the stream would be read under one name and known by another, so two prefixes on one key would be one source and entries skipped' : 'ioredis does not prefix SCAN patterns, so keys would be missed or data overwritten'}); got one with keyPrefix ${JSON.stringify(prefix)}: ${instead}`,
    { field: 'client', expected: 'an ioredis client without keyPrefix', code: 'REDIS_CLIENT_KEY_PREFIX' },
  );
}

/** Resolves `input` (a client or a getter, asked on every use) and refuses a prefixed client (`unprefixedRedis`). */
export async function resolveRedis<T>(owner: RedisClientOwner, input: ClientInput<T>): Promise<T> {
  return unprefixedRedis(owner, await resolveClient(input));
}
