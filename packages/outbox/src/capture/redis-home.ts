/**
 * An aggregate's *home* partition on Redis: the one hash tag its events may be written under
 * (its `seq`, pending entries and relay lease live there). Recorded at `homeKey(prefix, agg)`
 * as `<ms> <tag>`.
 *
 * - One server: the capture script reads and claims the home itself (the key is in its KEYS),
 *   atomically with the write: a refused or failed write claims nothing (`ms` is `0`).
 * - Redis Cluster: the home key is on another slot than the write, so the write claims it first
 *   with a one-key script (GET, or SET when absent; one extra round trip, the aggregates of one
 *   write in parallel). Of two first writes under two tags, the one whose claim lands first wins;
 *   the other is refused before it writes. A claim made by a write that then writes nothing (a
 *   failed precondition, a crash) must not pin the aggregate for good, so a claim is only
 *   *confirmed* by the aggregate's `seq` in the claimed partition: the claiming write's script
 *   refuses to number the aggregate later than `HOME_WINDOW_MS + HOME_SKEW_MS` after the claim
 *   (server time), and a claim older than `HOME_TAKEOVER_MS` whose partition holds no `seq` for
 *   the aggregate may be taken over (compare-and-set) by a write under another tag. A claim of
 *   the same partition (by a write that does not know the home yet) renews the claim's time, at
 *   most every `HOME_WINDOW_MS / 2`. Writes keep working, and stay safe, while the nodes' clocks
 *   differ by less than `HOME_TAKEOVER_MS - HOME_WINDOW_MS - HOME_SKEW_MS` (30 s). A refusal
 *   by a claim that is not confirmed yet is retryable (that write may fail, or its claim be
 *   taken over); by a home that numbered the aggregate, terminal.
 *   Once a write numbered an aggregate, its home is fixed for good (`seq` is never deleted): the
 *   process remembers it (`confirmedHomes`, up to `CONFIRMED_HOMES_MAX` per client and prefix)
 *   and its later writes of that aggregate in that partition claim nothing (no extra round trip).
 */
import { luaScript, runLuaScript } from '@steadyfn/lease';
import { AggregatePartitionError, OutboxUnavailableError } from '../errors.js';
import type { RedisLike } from '../stores/redis-client.js';
import { homeKey, ownKeyWrongType, partitionKeys } from '../stores/redis-keys.js';

/** Redis Cluster: how long after its claim (server ms) a first write may number the aggregate. */
export const HOME_WINDOW_MS = 10_000;
/**
 * Redis Cluster: how far apart the clocks of the node holding a home key and the node of the
 * write may be. The write's script compares its own node's time with a deadline taken from the
 * home key's node, so it allows this much on top of the window.
 */
export const HOME_SKEW_MS = 20_000;
/**
 * Redis Cluster: how old an unconfirmed claim (no `seq` in its partition) must be to be taken
 * over. Above the window plus twice the skew allowance, so a write that found the claim in time
 * has run (or been refused) before anyone can take it over.
 */
export const HOME_TAKEOVER_MS = 60_000;

/**
 * KEYS[1] the home key; ARGV[1] the write's partition, ARGV[2] the value to replace ('' to
 * claim only when absent), ARGV[3] the age (ms) from which a claim of the same partition is renewed.
 * Returns `{value, now}`: the home after the call and the server time.
 */
const CLAIM = luaScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', KEYS[1])
if v then
  if ARGV[2] ~= '' then
    if v ~= ARGV[2] then return {v, now} end
  else
    local ms, home = string.match(v, '^(%d+) (.*)$')
    if home ~= ARGV[1] or now - tonumber(ms) < tonumber(ARGV[3]) then return {v, now} end
  end
end
v = now .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], v)
return {v, now}
`);

/** Redis Cluster: how many confirmed homes a process remembers per client and prefix (the oldest forgotten first). */
export const CONFIRMED_HOMES_MAX = 10_000;

/** Aggregates this process numbered, by partition: their home, fixed for good. */
export interface ConfirmedHomes {
  has(aggregate: string, partition: string): boolean;
  add(aggregate: string, partition: string): void;
}

const remembered = new WeakMap<object, Map<string, Map<string, string>>>();

/** The confirmed homes this process remembers for `client` under `prefix`. */
export function confirmedHomes(client: RedisLike, prefix: string): ConfirmedHomes {
  let byPrefix = remembered.get(client);
  if (!byPrefix) remembered.set(client, (byPrefix = new Map()));
  let homes = byPrefix.get(prefix);
  if (!homes) byPrefix.set(prefix, (homes = new Map()));
  const map = homes;
  return {
    has: (aggregate, partition) => map.get(aggregate) === partition,
    add(aggregate, partition) {
      map.delete(aggregate);
      map.set(aggregate, partition);
      if (map.size > CONFIRMED_HOMES_MAX) map.delete(map.keys().next().value!);
    },
  };
}

/** Reads a home key's value: `<ms> <tag>` (a value of another shape counts as a tag claimed at 0). */
export function parseHome(value: string): { ms: number; home: string } {
  const match = /^(\d+) ([\s\S]*)$/.exec(value);
  return match ? { ms: Number(match[1]), home: match[2]! } : { ms: 0, home: value };
}

function unavailable(error: unknown): never {
  throw new OutboxUnavailableError('outbox: Redis could not be reached to check the aggregate\'s home partition; nothing was written', error);
}

/**
 * Redis Cluster: claims (or finds) `aggregate`'s home for a write in `partition`, before the
 * write. `renew` (a value read before) replaces that claim by a fresh one of the same
 * partition (the write's script found its window passed).
 *
 * @returns The claim's value and the server ms until which the write may number the aggregate
 *   when the partition holds no `seq` for it yet.
 * @throws AggregatePartitionError when the aggregate lives in (or is being claimed by) another partition.
 * @throws OutboxUnavailableError when Redis cannot be reached, or the claim keeps moving.
 */
export async function claimHome(client: RedisLike, prefix: string, partition: string, aggregate: string, renew = ''): Promise<{ value: string; deadline: number }> {
  const key = homeKey(prefix, aggregate);
  let expected = renew;
  for (let attempt = 0; attempt < 4; attempt++) {
    const reply = (await runLuaScript(client, CLAIM, [key], [partition, expected, String(HOME_WINDOW_MS / 2)]).catch(async (error: unknown) => {
      throw (await ownKeyWrongType(client, error, 'home key', key, 'string')) ?? unavailable(error);
    })) as [string, number];
    const value = String(reply[0]);
    const now = Number(reply[1]);
    const { ms, home } = parseHome(value);
    if (home === partition) return { value, deadline: ms + HOME_WINDOW_MS + HOME_SKEW_MS };
    // Another partition's claim: the aggregate lives there for good once that partition numbered
    // it (terminal); a younger claim not yet confirmed may still fail or be taken over (retryable).
    const seq = partitionKeys(prefix, home).seq;
    const numbered = Number(await client.call('HEXISTS', seq, aggregate).catch(async (error: unknown) => {
      throw (await ownKeyWrongType(client, error, 'seq hash', seq, 'hash')) ?? unavailable(error);
    })) === 1;
    if (numbered) throw new AggregatePartitionError(aggregate, home, partition);
    if (now - ms <= HOME_TAKEOVER_MS) throw new AggregatePartitionError(aggregate, home, partition, { claimOnly: true });
    expected = value;
  }
  throw new OutboxUnavailableError('outbox: the home partition of an aggregate kept changing while this write claimed it; nothing was written');
}
