/**
 * Redis Cluster: keeping the partition list (`<prefix>partitions`) whole when its master loses
 * writes. The list has its own slot; each partition's keys are on their tag's slot, and a write
 * lists its partition again only when the partition's `live` marker is gone. A master that
 * restarts without persistence, or a replica promoted without the last writes (replication is
 * asynchronous), drops partitions from the list while their pending events, quarantines and
 * `live` markers live on, on other masters: the sweeper would never see them again.
 *
 * So the list carries an *epoch* member, `}epoch:<run_id>:<master_replid>` of the master serving
 * it (never a tag: a tag holds no `}`). `run_id` changes on every start of a server, and
 * `master_replid` when a replica is promoted: the member is lost or rolled back with the list,
 * or names another server. Each read of the list on a cluster first checks it (one script on the
 * list's slot, reading the server's `INFO` and the member together); when it is missing or
 * stale, the list is rebuilt — a paged `SCAN` of every master for the partitions that hold work
 * (`:pending`, `:quarantine`, `:sent`) or are being written (`:live`), each found tag `SADD`ed —
 * and the epoch written last, only if the same server still serves the list. A rebuild that
 * could not reach every master, or is aborted, writes no epoch: the next read rebuilds again.
 */
import { raceSignal, throwIfAborted } from '@steadyfn/handler/internal';
import { luaScript, runLuaScript } from '@steadyfn/lease';
import { OutboxUnavailableError } from '../errors.js';
import type { RedisLike, RedisNodeLike } from './redis-client.js';
import { ownKeyTypeError, partitionsKey } from './redis-keys.js';

/** The start of the partition list's epoch member (a tag never holds `}`). */
export const EPOCH_MEMBER_PREFIX = '}epoch:';

/**
 * KEYS[1] the partition list. No ARGV: `{'OK' | 'LOST', epoch}` — whether the list holds the
 * epoch of the server running the script. ARGV[1] an epoch: adds it when it is still this
 * server's (`{'OK', epoch}`), else `{'CHANGED', epoch}`. A list of another type: `{'TYPE', type}`.
 */
const EPOCH = luaScript(`local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'set' and t ~= 'none' then return {'TYPE', t} end
local info = redis.call('INFO', 'server') .. redis.call('INFO', 'replication')
local epoch = '${EPOCH_MEMBER_PREFIX}' .. (string.match(info, 'run_id:(%x+)') or '') .. ':' .. (string.match(info, 'master_replid:(%x+)') or '')
if ARGV[1] then
  if ARGV[1] ~= epoch then return {'CHANGED', epoch} end
  redis.call('SADD', KEYS[1], epoch)
  return {'OK', epoch}
end
return {redis.call('SISMEMBER', KEYS[1], epoch) == 1 and 'OK' or 'LOST', epoch}`);

/** The keys that make a partition worth listing, after `<prefix>{tag}`. */
const MARKS = new Set([':pending', ':quarantine', ':sent', ':live']);

/** Tags added to the list per SADD while rebuilding it. */
const SADD_AT_ONCE = 1000;

/** Rebuilds tried in one read before giving up when the list's master keeps changing. */
const REBUILDS = 3;

async function epochOf(client: RedisLike, prefix: string, args: string[], signal: AbortSignal | undefined): Promise<[string, string]> {
  const key = partitionsKey(prefix);
  const [state, epoch] = (await runLuaScript(client, EPOCH, [key], args, { signal })) as [string, string];
  if (state === 'TYPE') throw ownKeyTypeError('partition list', key, epoch, 'set', 'nothing was relayed');
  return [state, epoch];
}

/** `text` as a literal in a `SCAN MATCH` pattern. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** The tag of `key` when it is a partition key `MARKS` names under `prefix`; else undefined. */
function markedTag(prefix: string, key: string): string | undefined {
  const open = prefix.length;
  if (!key.startsWith(prefix) || key[open] !== '{') return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 && MARKS.has(key.slice(close + 1)) ? key.slice(open + 1, close) : undefined;
}

/**
 * The tags of every partition holding work or being written, from a paged SCAN of every master.
 * @throws OutboxUnavailableError when the client does not reach every master serving slots
 *   (its view of the cluster is behind): a partial rebuild must not be taken for a whole one.
 */
async function partitionsOnMasters(client: RedisLike, prefix: string, signal: AbortSignal | undefined): Promise<Set<string>> {
  const masters: ReadonlyArray<RedisNodeLike> = client.nodes?.('master') ?? [];
  const incomplete = (why: string): OutboxUnavailableError =>
    new OutboxUnavailableError(`outbox: the partition list lost entries (its master restarted or failed over) and could not be rebuilt: ${why}; the next sweep tries again`);
  if (masters.length === 0) throw incomplete('the client lists no master (an ioredis Cluster is needed)');
  const slots = (await raceSignal(client.call('CLUSTER', 'SLOTS'), signal)) as Array<[number, number, [string, number, string?]]>;
  const serving = new Set(slots.map((range) => String(range[2][2])));
  const tags = new Set<string>();
  const pattern = `${globLiteral(prefix)}{*}:[lpqs]*`;
  for (const node of masters) {
    const id = String(await raceSignal(node.call('CLUSTER', 'MYID'), signal));
    if (!serving.delete(id)) continue; // not (or no longer) a master serving slots
    let cursor = '0';
    do {
      throwIfAborted(signal);
      const [next, keys] = (await raceSignal(node.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000), signal)) as [string, string[]];
      cursor = next;
      for (const key of keys) {
        const tag = markedTag(prefix, key);
        if (tag !== undefined) tags.add(tag);
      }
    } while (cursor !== '0');
  }
  if (serving.size > 0) throw incomplete(`${serving.size} master(s) serving slots not reached by the client yet`);
  return tags;
}

/**
 * Redis Cluster: makes sure the partition list holds every partition with work, and answers its
 * epoch member (left out of the listing). One script on the list's slot when the list is whole;
 * a rebuild (see above) when its epoch is missing or names another server.
 * @throws PreconditionFailedError when the list holds another type (named, never its values).
 * @throws OutboxUnavailableError when a rebuild cannot reach every master, or the list's master
 *   changes under every rebuild tried.
 */
export async function listEpoch(client: RedisLike, prefix: string, signal?: AbortSignal): Promise<string> {
  for (let rebuild = 0; ; rebuild++) {
    const [state, epoch] = await epochOf(client, prefix, [], signal);
    if (state === 'OK') return epoch;
    if (rebuild === REBUILDS) throw new OutboxUnavailableError("outbox: the partition list's master kept changing while the list was rebuilt; the next sweep tries again");
    const tags = [...(await partitionsOnMasters(client, prefix, signal))];
    for (let i = 0; i < tags.length; i += SADD_AT_ONCE) {
      await raceSignal(client.call('SADD', partitionsKey(prefix), ...tags.slice(i, i + SADD_AT_ONCE)), signal);
    }
    // Written last, on the server that was read before the scan: tags a failover lost meanwhile leave no epoch.
    const [written, now] = await epochOf(client, prefix, [epoch], signal);
    if (written === 'OK') return now;
  }
}
