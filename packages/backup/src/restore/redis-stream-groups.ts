/**
 * The commands that recreate a typed stream's counters and consumer groups
 * (sources/redis-stream-groups.ts), chosen by the target's Redis version before anything is
 * written (`streamGroupSupport`):
 *
 * - the stream's last-generated-id with `XSETID` (Redis ≥ 5.0), and on ≥ 7.0 its entries-added
 *   and max-deleted-entry-id (`ENTRIESADDED … MAXDELETEDID …`), which a group's lag is computed from;
 * - each group at its last-delivered-id (`XGROUP CREATE`), with its entries-read on ≥ 7.0
 *   (`ENTRIESREAD`; before 7.0 the server does not keep it: lag unknown, the restore warns);
 * - each consumer (`XGROUP CREATECONSUMER`, ≥ 6.2; before it a consumer comes back only with its
 *   first pending entry, and one with none is not recreated: the restore warns);
 * - each pending entry claimed for its consumer with its delivery count and its idle time as at
 *   the backup (`XCLAIM … IDLE … RETRYCOUNT … FORCE JUSTID`: the time between backup and restore
 *   is not counted. Redis's AOF rewrite writes the absolute delivery time, `TIME`, instead).
 *
 * A pending entry whose stream entry was deleted or trimmed before the backup cannot be recreated:
 * Redis keeps such an id in the PEL, but `XCLAIM … FORCE` skips an id the stream does not hold
 * (Redis 7 too; there is no other command that adds one). The claim's reply says so (no id
 * back): the restore counts each one and reports it (`STREAM_PENDING_NOT_RESTORED`, notices.ts),
 * never drops it silently. A group is destroyed before it is created: a snapshot resumed
 * among a stream's group records gives them again, and the one read last wins.
 */
import type { RedisRecord } from '../format/records.js';
import { decodeBytes } from '../sources/redis-values.js';
import { nameList, type RestoreNotice } from './notices.js';
import { helloVersion } from '../sources/redis-server-info.js';

type TypedRecord = Extract<RedisRecord, { c: number }>;
type Command = Array<string | Buffer | number>;

/** A Redis server version, `[major, minor]`. */
export type RedisVersion = readonly [number, number];

/** What a target of some Redis version can take of a typed stream. */
export interface StreamGroupSupport {
  /** Streams at all (`XADD`, `XGROUP`, `XCLAIM`, `XSETID`): ≥ 5.0. */
  streams: boolean;
  /** `XGROUP CREATECONSUMER`: ≥ 6.2. */
  createConsumer: boolean;
  /** `XGROUP CREATE … ENTRIESREAD` and `XSETID … ENTRIESADDED … MAXDELETEDID`: ≥ 7.0. */
  counters: boolean;
}

const atLeast = (version: RedisVersion, major: number, minor: number): boolean => version[0] > major || (version[0] === major && version[1] >= minor);

/** What a target of `version` can take; `undefined` (not known: `INFO` and `HELLO` refused) is taken as a current server. */
export function streamGroupSupport(version: RedisVersion | undefined): StreamGroupSupport {
  if (version === undefined) return { streams: true, createConsumer: true, counters: true };
  return { streams: atLeast(version, 5, 0), createConsumer: atLeast(version, 6, 2), counters: atLeast(version, 7, 0) };
}

/** The lowest Redis version among `INFO server` texts (one per master); `undefined` when none names one. */
export function lowestVersion(infos: string[]): RedisVersion | undefined {
  let lowest: RedisVersion | undefined;
  for (const info of infos) {
    const match = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (!match) continue;
    const version: RedisVersion = [Number(match[1]), Number(match[2])];
    if (lowest === undefined || !atLeast(version, lowest[0], lowest[1])) lowest = version;
  }
  return lowest;
}

/**
 * What a restore into a target of some version found in the records it checked, that the target
 * cannot take as backed up: said in the restore's warnings, each naming the streams.
 */
export class StreamGroupLosses {
  /** Streams with a group whose entries-read (lag) the target cannot keep. */
  private readonly lagUnknown = new Set<string>();
  /** `stream\0group\0consumer` of consumers declared, and of those with a pending entry. */
  private readonly declared = new Map<string, string>();
  private readonly claimed = new Set<string>();
  /** Pending entries the target did not take back (their stream entry is gone), by stream. */
  private readonly pendingNotRestored = new Map<string, number>();

  /** @param versionAssumed the target's version could not be read (`targetRedisVersion`: undefined) */
  constructor(
    private readonly support: StreamGroupSupport,
    private readonly versionAssumed = false,
  ) {}

  /** Notes that an `XCLAIM … FORCE` of a pending entry of `stream` claimed nothing (the entry is not in the stream). */
  notePendingNotRestored(stream: string): void {
    this.pendingNotRestored.set(stream, (this.pendingNotRestored.get(stream) ?? 0) + 1);
  }

  /** The typed notices (notices.ts): pending entries not recreated, a version assumed. */
  notices(): RestoreNotice[] {
    const out: RestoreNotice[] = [];
    if (this.versionAssumed) {
      out.push({ code: 'TARGET_VERSION_ASSUMED', count: 1, where: [], message: 'the target refused INFO and HELLO (an ACL): its Redis version was not read and it was taken as a current server (>= 7.0); a stream with consumer groups restored to an older server fails while it is written (TARGET_VERSION_ASSUMED)' });
    }
    if (this.pendingNotRestored.size > 0) {
      const count = [...this.pendingNotRestored.values()].reduce((a, b) => a + b, 0);
      const streams = [...this.pendingNotRestored.keys()];
      out.push({
        code: 'STREAM_PENDING_NOT_RESTORED',
        count,
        where: streams.slice(0, 10),
        message: `${count} pending entr${count === 1 ? 'y' : 'ies'} of consumer groups of stream(s) ${nameList(streams)} not restored: their stream entries were deleted or trimmed before the backup, and Redis recreates no pending entry without its stream entry (XCLAIM FORCE skips it) (STREAM_PENDING_NOT_RESTORED)`,
      });
    }
    return out;
  }

  /**
   * Why the target cannot take `record` at all (a stream on a server before 5.0), or undefined;
   * notes what it takes only in part.
   */
  check(record: TypedRecord, key: Buffer): string | undefined {
    if (record.t !== 'stream') return undefined;
    if (!this.support.streams) return 'a stream cannot be restored to a Redis server before 5.0';
    const stream = key.toString('latin1');
    for (const group of record.g ?? []) {
      if (group.r !== null && !this.support.counters) this.lagUnknown.add(stream);
      for (const consumer of group.c) {
        const id = `${stream}\0${decodeBytes(group.n).toString('latin1')}\0${decodeBytes(consumer.n).toString('latin1')}`;
        this.declared.set(id, stream);
        if (consumer.p.length > 0) this.claimed.add(id);
      }
    }
    for (const group of record.gp ?? []) {
      for (const consumer of group.c) if (consumer.p.length > 0) this.claimed.add(`${stream}\0${decodeBytes(group.n).toString('latin1')}\0${decodeBytes(consumer.n).toString('latin1')}`);
    }
    return undefined;
  }

  /** The warnings, once every record was checked (and, after the writes, the notices' messages). */
  warnings(): string[] {
    const out: string[] = [];
    const names = nameList;
    if (this.lagUnknown.size > 0) {
      out.push(`the target runs Redis before 7.0: consumer groups of stream(s) ${names(this.lagUnknown)} were restored without their entries-read (XINFO GROUPS lag unknown until a group reads again)`);
    }
    const lost = [...this.declared].filter(([id]) => !this.claimed.has(id)).map(([, stream]) => stream);
    if (!this.support.createConsumer && lost.length > 0) {
      out.push(`the target runs Redis before 6.2 (no XGROUP CREATECONSUMER): consumers with no pending entry of stream(s) ${names(lost)} were not recreated (they come back on their next XREADGROUP)`);
    }
    return [...out, ...this.notices().map((n) => n.message)];
  }
}

/** Commands for the counters and groups `record` carries, of the stream at `key` (after its entries are written). */
export function streamGroupCommands(key: Buffer, record: Pick<TypedRecord, 'g' | 'gp' | 's'>, support: StreamGroupSupport): Command[] {
  const out: Command[] = [];
  const claims = (name: Buffer, consumers: Array<{ n: Parameters<typeof decodeBytes>[0]; p: Array<[string, number, number]> }>, create: boolean) => {
    for (const consumer of consumers) {
      const who = decodeBytes(consumer.n);
      if (create && support.createConsumer) out.push(['XGROUP', 'CREATECONSUMER', key, name, who]);
      for (const [id, idle, deliveries] of consumer.p) out.push(['XCLAIM', key, name, who, 0, id, 'IDLE', idle, 'RETRYCOUNT', deliveries, 'FORCE', 'JUSTID']);
    }
  };
  const s = record.s;
  if (s !== undefined) {
    const counters = support.counters && s.a !== null ? ['ENTRIESADDED', s.a, 'MAXDELETEDID', s.d ?? '0-0'] : [];
    out.push(['XSETID', key, s.id, ...counters]);
  }
  for (const group of record.g ?? []) {
    const name = decodeBytes(group.n);
    out.push(['XGROUP', 'DESTROY', key, name]);
    out.push(['XGROUP', 'CREATE', key, name, group.id, ...(group.r === null || !support.counters ? [] : ['ENTRIESREAD', group.r])]);
    claims(name, group.c, true);
  }
  for (const group of record.gp ?? []) claims(decodeBytes(group.n), group.c, false);
  return out;
}

type VersionClient = { call(command: string, ...args: string[]): Promise<unknown>; nodes?(role: 'master'): Array<{ call(command: string, ...args: string[]): Promise<unknown> }> };

/**
 * The lowest Redis version among the target's masters, read before anything is written: from
 * `INFO server`, else (an ACL refusing `INFO`) from `HELLO`'s `version` (no protocol argument:
 * the connection's protocol is kept), which ACLs rarely deny. `undefined` when a master refused
 * both: the caller reports it (`TARGET_VERSION_ASSUMED`) and takes a current server.
 */
export async function targetRedisVersion(client: VersionClient): Promise<RedisVersion | undefined> {
  const nodes = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  try {
    const texts = await Promise.all(
      nodes.map(async (node) => {
        try {
          return String(await node.call('INFO', 'server'));
        } catch {
          const version = helloVersion(await node.call('HELLO'));
          if (version === undefined) throw new Error('HELLO named no version');
          return `redis_version:${version}`;
        }
      }),
    );
    return lowestVersion(texts);
  } catch {
    return undefined;
  }
}

/**
 * What one restore call into a Redis target read and noted (kept per call: `PreparedRestore.call`):
 * what the target's Redis version takes of a typed stream's groups, and what the checks found it cannot.
 */
export interface RedisRestoreCall {
  support: StreamGroupSupport;
  losses: StreamGroupLosses;
}

/**
 * A call's state for a target of Redis `version` (undefined: not read, taken as a current
 * server; `assumed`: because the target refused to say — reported as `TARGET_VERSION_ASSUMED`).
 */
export function restoreCall(version: RedisVersion | undefined, assumed = false): RedisRestoreCall {
  const support = streamGroupSupport(version);
  return { support, losses: new StreamGroupLosses(support, assumed) };
}
