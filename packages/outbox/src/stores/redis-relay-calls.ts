/**
 * The Redis relay store's calls: its Lua scripts, run with a typed refusal when one of the
 * outbox's own keys holds another type, and the partition list, read a page at a time.
 */
import { raceSignal } from '@steadyfn/handler/internal';
import { runLuaScript } from '@steadyfn/lease';
import type { RedisLike } from './redis-client.js';
import { ownKeyTypeError, ownKeyWrongType, partitionsKey } from './redis-keys.js';
import type { RunScript } from './redis-relay-begin.js';
import { EPOCH_MEMBER_PREFIX, listEpoch } from './redis-partition-epoch.js';
import { OWNKEY_REPLY, type RelayScript } from './redis-relay-scripts.js';

/**
 * Redis's WRONGTYPE on one of `keys` (the outbox's own: `[role, key, type needed]`) as
 * `OUTBOX_PRECONDITION_FAILED` naming it (an application key under the outbox's prefix, met
 * by the sweep); any other error unchanged. Costs a TYPE per key only after a failure.
 */
export async function ownKeysChecked(client: RedisLike, error: unknown, keys: ReadonlyArray<[string, string, string]>): Promise<unknown> {
  for (const [role, key, type] of keys) {
    const typed = await ownKeyWrongType(client, error, role, key, type, 'nothing was relayed');
    if (typed) return typed;
  }
  return error;
}

/**
 * A relay script's refusal of one of its own keys holding another type (`OUTBOX_OWNKEY <index>
 * <type>`, answered before the script wrote anything) as `OUTBOX_PRECONDITION_FAILED` naming
 * the key's role, name, type and the type expected, never what it holds; any other error unchanged.
 */
function ownKeyRefusal(error: unknown, script: RelayScript, keys: ReadonlyArray<string>): unknown {
  const match = error instanceof Error ? OWNKEY_REPLY.exec(error.message) : null;
  if (!match) return error;
  const index = Number(match[1]) - 1;
  const [role, type] = script.own[index % script.own.length]!;
  return ownKeyTypeError(role, keys[index] ?? '?', match[2]!, type, script.nothing);
}

/** Runs one of the relay's scripts (`signal` bounds it); an own key of another type is the typed `OUTBOX_PRECONDITION_FAILED` naming it. */
export const runRelayScript: RunScript = (client, script, keys, args, signal) =>
  runLuaScript(client, script.script, keys, args, { signal }).catch((error: unknown) => {
    throw ownKeyRefusal(error, script, keys);
  });

/**
 * The partition list (at most 100 000 read), a page (SSCAN) at a time; with `signal`, given up
 * between and during pages (its reason thrown). On Redis Cluster its epoch is checked first and
 * the list rebuilt when its master lost writes (`redis-partition-epoch.ts`); epoch members are
 * left out, and one of a server no longer serving the list removed.
 * @throws PreconditionFailedError when the list holds another type (named, never its values).
 * @throws OutboxUnavailableError (Redis Cluster) when the list must be rebuilt and cannot be yet.
 */
export async function listPartitions(client: RedisLike, prefix: string, signal?: AbortSignal): Promise<string[]> {
  const epoch = client.isCluster ? await listEpoch(client, prefix, signal) : undefined;
  const out: string[] = [];
  const stale: string[] = [];
  let cursor = '0';
  do {
    const page = client.call('SSCAN', partitionsKey(prefix), cursor, 'COUNT', 1000).catch(async (error: unknown) => {
      throw await ownKeysChecked(client, error, [['partition list', partitionsKey(prefix), 'set']]);
    });
    const [next, members] = (await raceSignal(page, signal)) as [string, string[]];
    cursor = next;
    for (const member of members) {
      if (!member.startsWith(EPOCH_MEMBER_PREFIX)) out.push(member);
      else if (member !== epoch) stale.push(member);
    }
  } while (cursor !== '0' && out.length < 100_000);
  if (stale.length > 0) await raceSignal(client.call('SREM', partitionsKey(prefix), ...stale), signal);
  return out;
}
