/**
 * What a resume of a Redis keyspace scan depends on: the masters, in a stable order, named by
 * address; each one's `run_id`; on a Cluster the slot ranges and who serves them.
 */
import { SourceChangedError } from '../errors.js';
import type { RedisLike } from './redis.js';
import { serverFacts } from './redis-server-info.js';

/** How a master is named in resume points. */
export function addressOf(client: RedisLike, index: number): string {
  const options = client.options as { host?: string; port?: number } | undefined;
  return options?.host !== undefined ? `${options.host}:${options.port ?? 6379}` : `node${index}`;
}

/** The masters to scan, in a stable order. */
export async function mastersOf(client: RedisLike): Promise<RedisLike[]> {
  if (typeof client.nodes !== 'function') return [client];
  const nodes = client.nodes('master');
  return [...nodes].sort((a, b) => addressOf(a, 0).localeCompare(addressOf(b, 0)));
}

/**
 * What a resume depends on: each master's address and `run_id` (a new one after every restart),
 * and on a Cluster the slot ranges and who serves them.
 */
export async function topologyOf(client: RedisLike, masters: RedisLike[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, node] of masters.entries()) {
    // `?` when the node refuses INFO (an ACL): the backup's warnings say a restart goes unseen.
    out.push(`${addressOf(node, i)} ${(await serverFacts(node)).runId ?? '?'}`);
  }
  if (typeof client.nodes === 'function') {
    const slots = (await masters[0]!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string?]]>;
    for (const [start, end, owner] of slots) out.push(`slots ${start}-${end} ${owner[0]}:${owner[1]}`);
  }
  return out.sort();
}

/** @throws {SourceChangedError} `now` is not `before` (a master's run_id, address or slots) */
export function sameTopology(before: string[], now: string[], when: string): void {
  if (JSON.stringify(now) === JSON.stringify(before)) return;
  const changed = [...now.filter((t) => !before.includes(t)), ...before.filter((t) => !now.includes(t)).map((t) => `gone: ${t}`)];
  throw new SourceChangedError(`the Redis servers changed ${when} (a restart, a failover or a resharding): ${changed.slice(0, 4).join('; ')}`);
}
