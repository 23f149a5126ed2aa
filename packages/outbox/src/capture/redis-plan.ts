/**
 * The plan of one Redis atomic write: its keys and arguments, and the JSON plan the capture
 * script (`redis-script.ts`) runs — own keys to type-check first (`o`), checks (`c`), commands
 * (`w`), events (`e`), the request marker (`r`), the partition listing (`g`), the aggregates'
 * homes (`p`, `h`; `d` is added on a cluster once their claims are made). Every argument is
 * checked here, before anything is sent.
 */
import { createHash } from 'node:crypto';
import { aggregateKey, checkAggregateId, serializeEvent, type PendingEvent } from '../envelope.js';
import { EventInvalidError } from '../errors.js';
import type { RedisLike } from '../stores/redis-client.js';
import { homeKey, MAX_LEASE_KEY_LENGTH, maxPartitionTagLength, ownKeyRole, partitionKeys, partitionsKey } from '../stores/redis-keys.js';
import { bad, checkCommand, partitionOf, text } from './redis-commands.js';
import type { ScriptFragment } from './redis-script.js';
import type { RedisWrite } from './redis-write-types.js';

/** One of the outbox's own keys in a write: its role, name and the type it needs (as Redis's TYPE names it). */
export interface OwnKey {
  role: string;
  key: string;
  type: string;
}

/** The script's plan (`ARGV[1]`, JSON): key and argument positions, from 1. */
export interface WritePlan {
  o: Array<[number, string]>;
  c: Array<[string, number, number, number]>;
  w: Array<Array<string | number>>;
  e: number[][];
  r?: [number, number, number];
  g?: [number, number, number];
  p?: number;
  h?: Array<[number, number]>;
  d?: Array<[number, number]>;
}

/** A write planned: what `redisWrite` sends, and what it reads the reply with. */
export interface PlannedWrite {
  /** KEYS of the script. */
  keys: string[];
  /** ARGV of the script; `args[0]` is the plan's JSON, filled in when sent. */
  args: string[];
  /** Appends an argument; answers its position (from 1). */
  arg: (value: string) => number;
  plan: WritePlan;
  /** The own keys `plan.o` checks, in order (named in a refusal). */
  own: OwnKey[];
  /** The request marker key, when the write has a request key. */
  marker: string | undefined;
  /** The hash tag every key of the write shares. */
  partition: string;
  /** Each aggregate of the events → the position of its argument. */
  aggregates: Map<string, number>;
  /** How the partition is listed for the sweeper (`plan.g`), when the write has events. */
  listing: [number, number, number] | undefined;
  /** The fragments, with where their keys and arguments start. */
  placed: Array<{ fragment: ScriptFragment; keyStart: number; argStart: number }>;
}

/** Splits the envelope around its seq, which the script fills in. */
function envelopeAround(event: PendingEvent): [string, string] {
  const json = serializeEvent(event, 0);
  const at = json.indexOf(',"seq":0,');
  return [json.slice(0, at + 7), json.slice(at + 8)];
}

/**
 * Plans `write` under `prefix`: checks every key, command and event, and places them.
 * @throws EventInvalidError for a command the write does not support, keys across hash tags, or
 *   a check or command on one of the outbox's own keys, or (with events) a hash tag longer than
 *   `maxPartitionTagLength(prefix)`.
 */
export function planWrite(client: RedisLike, prefix: string, write: RedisWrite): PlannedWrite {
  const keys: string[] = [];
  const keyIndex = new Map<string, number>();
  const key = (k: string): number => {
    let i = keyIndex.get(k);
    if (i === undefined) {
      keys.push(k);
      i = keys.length;
      keyIndex.set(k, i);
    }
    return i;
  };
  const args: string[] = [''];
  const arg = (v: string): number => args.push(v);

  // Keys and commands checked before the partition is read from the keys' hash tags: a
  // missing or non-string key must be the typed error naming it, not a TypeError there.
  write.checks.forEach((check, i) => {
    if (typeof check?.key !== 'string' || check.key.length === 0) bad('check key must be a non-empty string', `checks.${i}.key`);
  });
  const commandArgs = write.commands.map((command, i) => checkCommand(command, i));
  const stateKeys = [...write.checks.map((c) => c.key), ...write.commands.map((c) => c[1])];
  const partition = partitionOf(stateKeys, client.isCluster);
  if (write.events.length > 0) checkPartitionTag(prefix, partition);
  // The state must never live in the outbox's own key space: a command there would run after
  // the own keys' types were checked (and could break one half way through the writes).
  const ownRefused = (k: string, field: string): void => {
    const role = ownKeyRole(prefix, partition, k);
    if (role) bad(`${field} targets the outbox's own ${role} key ${JSON.stringify(k)}; the application's state must not use the outbox's keys (prefix ${JSON.stringify(prefix)})`, field);
  };
  write.checks.forEach((check, i) => ownRefused(check.key, `checks.${i}.key`));
  write.commands.forEach((command, i) => ownRefused(command[1], `commands.${i}.key`));
  const pk = partitionKeys(prefix, partition);
  key(pk.seq);
  key(pk.events);
  key(pk.pending);
  const plan: WritePlan = { o: [], c: [], w: [], e: [] };
  /** The outbox's own keys the script touches, with their role (named in a refusal), checked first. */
  const own: OwnKey[] = [];
  const ownKey = (role: string, k: string, type: string): void => {
    own.push({ role, key: k, type });
    plan.o.push([key(k), type]);
  };
  const marker = write.requestKey ? pk.applied(createHash('sha256').update(write.requestKey.key).digest('base64url')) : undefined;
  if (write.requestKey && marker) {
    plan.r = [key(marker), arg(write.requestKey.answer ?? '1'), arg(String(Math.max(1, write.requestKey.ttlMs)))];
    ownKey('request marker', marker, 'string');
  }
  if (write.events.length > 0) {
    ownKey('seq hash', pk.seq, 'hash');
    ownKey('events stream', pk.events, 'stream');
    ownKey('pending set', pk.pending, 'zset');
    // The relay records these events here once sent: of another type, it could never mark them.
    if (write.mark === 'sent') ownKey('sent set', pk.sent, 'zset');
  }
  const aggregates = new Map<string, number>();
  for (const event of write.events) {
    const agg = aggregateKey(event.aggregateType, checkAggregateId(event.aggregateId));
    const [head, tail] = envelopeAround(event);
    const aggArg = arg(agg);
    if (!aggregates.has(agg)) {
      aggregates.set(agg, aggArg);
      ownKey('aggregate set', pk.aggregate(agg), 'zset');
    }
    plan.e.push([aggArg, arg(event.id), arg(head), arg(tail), key(pk.aggregate(agg)), arg(event.type), arg(event.traceparent ?? '')]);
  }
  // The aggregates' home partitions: checked and claimed in the script on one server.
  if (aggregates.size > 0) {
    plan.p = arg(partition);
    if (!client.isCluster) {
      plan.h = [...aggregates].map(([agg, aggArg]) => [key(homeKey(prefix, agg)), aggArg]);
      for (const agg of aggregates.keys()) ownKey('home key', homeKey(prefix, agg), 'string');
    }
  }
  write.checks.forEach((check, i) => {
    const field = check.field === undefined ? 0 : arg(text(check.field, `checks.${i}.field`));
    if ('equals' in check) plan.c.push(['eq', key(check.key), field, arg(text(check.equals, `checks.${i}.equals`))]);
    else if ('absent' in check) plan.c.push(['absent', key(check.key), field, 0]);
    else plan.c.push(['exists', key(check.key), field, 0]);
  });
  write.commands.forEach((command, i) => {
    plan.w.push([command[0], key(command[1]), ...commandArgs[i]!.map(arg)]);
  });
  const placed = (write.fragments ?? []).map((fragment) => {
    const keyStart = keys.length + 1;
    for (const k of fragment.keys) keys.push(k);
    const argStart = args.length + 1;
    for (const a of fragment.args) args.push(a);
    return { fragment, keyStart, argStart };
  });
  const ttl = String(write.partitionTtlMs ?? 3_600_000);
  // Listed for the sweeper in the write's own script on one server; on a cluster the list is
  // on another slot: the write refuses while the partition is unlisted, and is listed first.
  const listing = write.events.length === 0 ? undefined : client.isCluster ? ([2, key(pk.live), arg(ttl)] as [number, number, number]) : ([1, key(partitionsKey(prefix)), arg(partition)] as [number, number, number]);
  if (listing) plan.g = listing;
  // The cluster's `live` marker is only tested and SET (which replaces any type): not checked.
  if (listing && !client.isCluster) ownKey('partition list', partitionsKey(prefix), 'set');
  return { keys, args, arg, plan, own, marker, partition, aggregates, listing, placed };
}

/**
 * Refuses, before anything is written, a partition (hash) tag too long for the keys derived
 * from it: past `maxPartitionTagLength`, its relay and redrive lease keys would pass the lease
 * store's limit, and its events would be committed but never relayed. Names the limit and the
 * tag's length, never its content.
 *
 * @throws EventInvalidError (`OUTBOX_EVENT_INVALID`, field `keys`), as every refusal of the write's keys.
 */
function checkPartitionTag(prefix: string, tag: string): void {
  const max = maxPartitionTagLength(prefix);
  if (tag.length <= max) return;
  throw new EventInvalidError(`outbox: the keys' hash tag is ${tag.length} characters; with the prefix ${JSON.stringify(prefix)} at most ${max} fit the relay's lease keys (${MAX_LEASE_KEY_LENGTH} characters); nothing was written`, {
    issues: [{ field: 'keys', message: `hash tag of ${tag.length} characters, over ${max}`, expected: `a hash tag of at most ${max} characters (got ${tag.length})` }],
  });
}
