/**
 * The Redis relay store's quarantines: one hash per partition, `<prefix>{tag}:quarantine`,
 * aggregate → the relay's JSON record `{ fromSeq, reason, at }` (`at`: the server's clock, ms).
 *
 *   quarantine       HSET the record (the QUARANTINE script)
 *   redrive          HDEL it and reset the aggregate's counters, only while it is the one named
 *   listQuarantined  HGETALL each listed partition's hash until `limit` entries are listed, then
 *                    only TYPE each remaining one, all sent together (a hash of another type
 *                    still refuses the call)
 */
import { raceSignal, throwIfAborted } from '@steadyfn/handler/internal';
import { QuarantineUnreadableError } from '../errors.js';
import type { QuarantineEntry, RelayStore } from '../relay/types.js';
import { flatPairs, type RedisLike } from './redis-client.js';
import { ownKeyTypeError, partitionKeys } from './redis-keys.js';
import type { RunScript } from './redis-relay-begin.js';
import { listPartitions, ownKeysChecked } from './redis-relay-calls.js';
import { QUARANTINE, REDRIVE } from './redis-relay-scripts.js';

/** A quarantine hash field's value as the `QUARANTINE` script writes it; undefined when it is not that (never thrown: one bad entry must not hide the others). */
function quarantineRecord(raw: string): { fromSeq: number; reason: string; at: number } | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const { fromSeq, reason, at } = (entry ?? {}) as Record<string, unknown>;
  return typeof entry === 'object' && Number.isSafeInteger(fromSeq) && typeof reason === 'string' && Number.isSafeInteger(at) ? { fromSeq: fromSeq as number, reason, at: at as number } : undefined;
}

/** TYPEs in flight at once: as the sweep's STATUS scripts, a few hundred partitions at a time. */
const TYPES_AT_ONCE = 500;

/**
 * The TYPE of each quarantine hash past the listing's `limit`, sent together (ioredis pipelines
 * concurrent commands on a connection; on a Cluster each goes to its key's node), at most
 * {@link TYPES_AT_ONCE} at once: one round trip per node and chunk, not one per partition.
 * @throws PreconditionFailedError (`OUTBOX_PRECONDITION_FAILED`, 409) for the first key, in the
 *   order given, that holds another type, as `HGETALL`'s WRONGTYPE would be (`ownKeyTypeError`:
 *   role, name, type, never what it holds).
 */
async function quarantineTypesChecked(client: RedisLike, keys: ReadonlyArray<string>, signal: AbortSignal | undefined): Promise<void> {
  for (let i = 0; i < keys.length; i += TYPES_AT_ONCE) {
    throwIfAborted(signal);
    const chunk = keys.slice(i, i + TYPES_AT_ONCE);
    const types = await raceSignal(Promise.all(chunk.map(async (key) => String(await client.call('TYPE', key)))), signal);
    const wrong = types.findIndex((found) => found !== 'hash' && found !== 'none');
    if (wrong >= 0) throw ownKeyTypeError('quarantine hash', chunk[wrong]!, types[wrong]!, 'hash', 'nothing was relayed');
  }
}

/** The quarantine calls of the Redis relay store under `prefix`, through `getClient` and `run`. */
export function redisQuarantines(prefix: string, getClient: () => Promise<RedisLike>, run: RunScript): Pick<RelayStore, 'quarantine' | 'redrive' | 'listQuarantined'> {
  return {
    async quarantine(ref, { fromSeq, reason, signal }) {
      const k = partitionKeys(prefix, ref.where);
      return Number(await run(await getClient(), QUARANTINE, [k.quarantine], [ref.aggregate, fromSeq, reason], signal));
    },
    async redrive(ref, callOptions) {
      const k = partitionKeys(prefix, ref.where);
      const reply = Number(await run(await getClient(), REDRIVE, [k.quarantine, k.aggregate(ref.aggregate), k.attempts, k.seq], [ref.aggregate, ref.fromSeq, ref.quarantinedAt], callOptions?.signal));
      if (reply === -2) throw new QuarantineUnreadableError(ref.where, ref.aggregate, `the quarantine entry of ${JSON.stringify(ref.aggregate)} in ${JSON.stringify(k.quarantine)} is not the relay's JSON { fromSeq, reason, at }: nothing was redriven (it was written by something other than the relay: repair or remove it by hand)`);
      return reply === 1 ? 'redriven' : reply === 0 ? 'not-quarantined' : reply === 2 ? 'quarantine-changed' : 'unknown';
    },
    async listQuarantined({ limit, onUnreadable, signal }) {
      // Aborted: nothing more is asked (each command checks first, one in flight is given up), its reason thrown.
      throwIfAborted(signal);
      const client = await raceSignal(getClient(), signal);
      const out: QuarantineEntry[] = [];
      const tags = await listPartitions(client, prefix, signal);
      let at = 0;
      // Read one hash after another: the limit decides whether the next one is read at all.
      for (; at < tags.length && out.length < limit; at++) {
        const tag = tags[at]!;
        const key = partitionKeys(prefix, tag).quarantine;
        const hash = client.call('HGETALL', key).catch(async (error: unknown) => {
          throw await ownKeysChecked(client, error, [['quarantine hash', key, 'hash']]);
        });
        const all = flatPairs(await raceSignal(hash, signal));
        for (let i = 0; i + 1 < all.length && out.length < limit; i += 2) {
          const entry = quarantineRecord(all[i + 1]!);
          if (entry) out.push({ where: tag, aggregate: all[i]!, quarantinedAt: entry.at, fromSeq: entry.fromSeq, reason: entry.reason });
          else onUnreadable?.({ where: tag, aggregate: all[i]!, code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: `the quarantine entry of ${JSON.stringify(all[i]!)} in ${JSON.stringify(key)} is not the relay's JSON { fromSeq, reason, at }: left out of the listing` });
        }
      }
      // Listed in full: the partitions past the limit are only checked to be a hash (or none),
      // so one of another type still refuses the call, without reading a hash it won't list.
      await quarantineTypesChecked(client, tags.slice(at).map((tag) => partitionKeys(prefix, tag).quarantine), signal);
      return out;
    },
  };
}
