/**
 * Redis capture: the author's state commands, their preconditions and the outbox events in
 * one Lua script (see `redis-script.ts`), so state and events are written together or not
 * at all. Every key of one write shares a hash tag (its *partition*), so the write is one
 * script on one Redis Cluster slot.
 */
import { createHash } from 'node:crypto';
import { checkAggregateId, serializeEvent, aggregateKey, type PendingEvent } from '../envelope.js';
import { AggregatePartitionError, claimsWritten, OutboxUnavailableError, PreconditionFailedError } from '../errors.js';
import { runLuaScript } from '@steadyfn/lease';
import type { RedisLike } from '../stores/redis-client.js';
import { homeKey, ownKeyRole, ownKeyTypeError, ownKeyWrongType, partitionKeys, partitionsKey } from '../stores/redis-keys.js';
import { claimHome, confirmedHomes } from './redis-home.js';
import { captureScript, type ScriptFragment } from './redis-script.js';
import { bad, checkCommand, partitionOf, text, type RedisCommand } from './redis-commands.js';

/**
 * Why a check failed, as the write's script found it: `missing` (the key, or its hash field,
 * does not exist), `type` (the key holds another type), `differs` (another value), `present`
 * (an `absent` check's key or field exists).
 */
export type CheckFailure = { why: 'missing' | 'differs' | 'present' } | { why: 'type'; type: string };

/**
 * Internal: a check carrying this function fails with the error it returns instead of
 * `PreconditionFailedError` (`transitions()` turns its check into its own `TRANSITION_CONFLICT`
 * at the source, rather than replacing the error in an `onError` hook).
 */
export const CHECK_FAILURE: unique symbol = Symbol('steadyfn.outbox.checkFailure');

/** A precondition on state, checked before anything is written. */
export type RedisCheck =
  | { key: string; field?: string; equals: string; label?: string }
  | { key: string; field?: string; absent: true; label?: string }
  | { key: string; field?: string; exists: true; label?: string };

export { REDIS_COMMANDS, partitionOf, type RedisCommand, type RedisCommandName } from './redis-commands.js';

/** Everything one atomic write carries. */
export interface RedisWrite {
  /** Preconditions, all checked before anything is written; one that fails writes nothing (409). */
  checks: ReadonlyArray<RedisCheck>;
  /** The state commands, run in order after every check passed. */
  commands: ReadonlyArray<RedisCommand>;
  /**
   * The events appended to the aggregate's outbox stream, each given the next `seq`. Each
   * aggregate's home partition (recorded by its first write) must be this write's partition,
   * else the write is refused (`AggregatePartitionError`, nothing written).
   */
  events: ReadonlyArray<PendingEvent>;
  /** Lua joined into the same script (an idempotency or inbox completion). */
  fragments?: ReadonlyArray<ScriptFragment>;
  /**
   * Makes the write exactly-once: a marker `<prefix>{tag}:applied:<sha256(key)>` is checked
   * absent first and set (for `ttlMs`) with the write, holding `answer` (the request's encoded
   * answer, when known) or `1`; when present, nothing is written and the result says
   * `duplicate` with the marker's value.
   */
  requestKey?: { key: string; ttlMs: number; answer?: string | undefined };
  /**
   * Redis Cluster: how long the partition stays listed for the sweeper after this write
   * (its `live` marker's TTL). @default 3600000
   */
  partitionTtlMs?: number;
  /**
   * The relay's `mark` for this outbox. With `'sent'` the partition's sent set (where the
   * relay records sent events) is one of the write's own keys, its type checked before
   * anything is written: a sent set of another type would let the events be written, then
   * every relay send them and fail to mark them, so they would be sent again on every run.
   * @default 'delete'
   */
  mark?: 'delete' | 'sent';
}

/** One recorded event: its id, the seq the write assigned and its stream entry id. */
export interface WrittenEvent {
  /** The event id (UUIDv7). */
  id: string;
  /** The aggregate id. */
  aggregate: string;
  /** Its place in the aggregate's order, from 1. */
  seq: number;
  /** The entry id in the outbox stream. */
  streamId: string;
}

/** What one Redis-mode write did. */
export interface RedisWriteResult {
  /** The hash tag the write's keys share (the outbox partition the relay reads). */
  partition: string;
  /** The events recorded, in order. */
  events: WrittenEvent[];
  /** The request key was already applied: nothing was written. */
  duplicate: boolean;
  /** With `duplicate`: what the first write's marker holds (its answer, or `1`). */
  applied?: string;
  /** What the fragments' writes appended to the reply (after the events). */
  extra: string[];
}

/** Splits the envelope around its seq, which the script fills in. */
function envelopeAround(event: PendingEvent): [string, string] {
  const json = serializeEvent(event, 0);
  const at = json.indexOf(',"seq":0,');
  return [json.slice(0, at + 7), json.slice(at + 8)];
}

/**
 * Runs one atomic write: checks, commands, events (seq assigned inside), fragments.
 *
 * @throws PreconditionFailedError when a check fails or a command would fail at run time, or
 *   one of the outbox's own keys (stream, `seq` hash, sets — the sent set with `mark: 'sent'` —,
 *   request marker, home key, partition list) holds another type — checked before the request marker, so a redelivery of a request
 *   already applied meets this 409, not a duplicate (nothing written).
 * @throws EventInvalidError for a command the write does not support, keys across hash tags, or
 *   a check or command on one of the outbox's own keys (`<prefix>{tag}:…`, `<prefix>home:…`,
 *   the partition list), before anything is sent.
 * @throws AggregatePartitionError when an event's aggregate lives in another partition (its
 *   home, recorded by its first write; see `redis-home.ts`): nothing written.
 * @throws OutboxUnavailableError when Redis cannot be reached or refuses the script (e.g. OOM).
 */
export async function redisWrite(client: RedisLike, prefix: string, write: RedisWrite): Promise<RedisWriteResult> {
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
  const plan: {
    o: Array<[number, string]>;
    c: Array<[string, number, number, number]>;
    w: Array<Array<string | number>>;
    e: number[][];
    r?: [number, number, number];
    g?: [number, number, number];
    p?: number;
    h?: Array<[number, number]>;
    d?: Array<[number, number]>;
  } = { o: [], c: [], w: [], e: [] };
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

  // On a cluster the home keys are on other slots: claimed before the script (once every
  // argument is checked), the script checking each claim's deadline (`redis-home.ts`); not for
  // an aggregate this process already numbered in this partition (its home is fixed for good).
  const claims: Array<{ agg: string; value: string; deadlineArg: number }> = [];
  const confirmed = client.isCluster ? confirmedHomes(client, prefix) : undefined;
  const unclaimed = confirmed ? [...aggregates].filter(([agg]) => !confirmed.has(agg, partition)) : [];
  if (unclaimed.length > 0) {
    let found: Array<{ value: string; deadline: number }>;
    try {
      // Every claim settled before a refusal is judged: those made are all the write leaves, and its message names them.
      const settled = await Promise.allSettled(unclaimed.map(([agg]) => claimHome(client, prefix, partition, agg)));
      const made = unclaimed.filter((_, i) => settled[i]!.status === 'fulfilled').map(([agg]) => agg);
      const refused = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (refused) throw made.length > 0 ? withClaims(refused.reason, made) : refused.reason;
      found = settled.map((s) => (s as PromiseFulfilledResult<{ value: string; deadline: number }>).value);
    } catch (error) {
      // A request already applied answers as a duplicate, as the script would (its marker is
      // read right after the own keys' types): its home may have been refused only for an
      // aggregate split before homes were recorded.
      if (error instanceof AggregatePartitionError && marker !== undefined) {
        const prior = await unavailable(client.call('GET', marker));
        if (prior !== null && prior !== undefined) return { partition, events: [], duplicate: true, applied: String(prior), extra: [] };
      }
      throw error;
    }
    plan.d = unclaimed.map(([agg, aggArg], i) => {
      const deadlineArg = arg(String(found[i]!.deadline));
      claims.push({ agg, value: found[i]!.value, deadlineArg });
      return [aggArg, deadlineArg];
    });
  }
  // What a refusal from here on leaves: on a cluster, the home claims made (or reused) above —
  // an unconfirmed claim, taken over after HOME_TAKEOVER_MS by a write of another partition.
  const nothing = claimsWritten(claims.map((c) => c.agg));

  const script = captureScript(placed);
  const send = async (): Promise<unknown> => {
    args[0] = JSON.stringify(plan);
    try {
      return await runLuaScript(client, script, keys, args);
    } catch (error) {
      throw new OutboxUnavailableError(`outbox: the Redis atomic write was refused or could not be sent; ${nothing}`, error);
    }
  };
  // Redis Cluster: a home claim whose window passed before the script ran (a slow first write)
  // is renewed, and the write sent again.
  const sendClaimed = async (): Promise<unknown> => {
    let reply = await send();
    for (let renewals = 0; renewals < 3 && Array.isArray(reply) && reply[0] === 'HOMESTALE'; renewals++) {
      const renewed = await Promise.all(claims.map((claim) => claimHome(client, prefix, partition, claim.agg, claim.value)));
      claims.forEach((claim, i) => {
        claim.value = renewed[i]!.value;
        args[claim.deadlineArg - 1] = String(renewed[i]!.deadline);
      });
      reply = await send();
    }
    return reply;
  };
  let reply = await sendClaimed();
  if (Array.isArray(reply) && reply[0] === 'UNLISTED') {
    // First write to this partition since it was last pruned: list it, then write (and set `live`).
    await listPartition(client, prefix, partition, nothing);
    plan.g = [3, listing![1], listing![2]];
    reply = await sendClaimed();
    // A sweeper pruning at the same moment may have dropped it again: it must be listed now.
    if (Array.isArray(reply) && reply[0] === 'OK' && Number(await unavailable(client.call('SISMEMBER', partitionsKey(prefix), partition))) === 0) await listPartition(client, prefix, partition);
  }
  const result = readReply(reply, write, partition, own, nothing);
  if (!result.duplicate) for (const claim of claims) confirmed?.add(claim.agg, partition);
  return result;
}

/**
 * A refusal met while claiming the homes of a write's aggregates, after the claims of `made`
 * were written (Redis Cluster, claims in parallel): its message says what the write left,
 * naming each claim, instead of `nothing was written`.
 */
function withClaims(error: unknown, made: ReadonlyArray<string>): unknown {
  if (error instanceof AggregatePartitionError) return new AggregatePartitionError(error.aggregate, error.home, error.partition, { claimOnly: error.claimOnly, claims: made });
  const said = claimsWritten(made);
  if (error instanceof PreconditionFailedError) return new PreconditionFailedError(error.message.replace(/nothing was written$/, said));
  if (error instanceof OutboxUnavailableError) return new OutboxUnavailableError(error.message.replace(/nothing was written$/, said), error.cause);
  return error;
}

/** One of the outbox's own keys in a write: its role, name and the type it needs (as Redis's TYPE names it). */
interface OwnKey {
  role: string;
  key: string;
  type: string;
}

function unavailable<T>(pending: Promise<T>): Promise<T> {
  return pending.catch((error: unknown) => {
    throw new OutboxUnavailableError('outbox: Redis could not be reached', error);
  });
}

/** Lists the partition for the sweeper; `nothing`: what a refusal (the list of another type) says was written. */
async function listPartition(client: RedisLike, prefix: string, partition: string, nothing?: string): Promise<void> {
  await client.call('SADD', partitionsKey(prefix), partition).catch(async (error: unknown) => {
    throw (await ownKeyWrongType(client, error, 'partition list', partitionsKey(prefix), 'set', nothing)) ?? new OutboxUnavailableError('outbox: Redis could not be reached', error);
  });
}

/** The script's reply as the write's result or its refusal; `nothing`: what a refusal says was written. */
function readReply(reply: unknown, write: RedisWrite, partition: string, own: ReadonlyArray<OwnKey>, nothing: string): RedisWriteResult {
  const parts = Array.isArray(reply) ? reply : [];
  const status = String(parts[0]);
  if (status === 'OWNKEY') {
    // Its role, name and type, never what it holds: an application key under the outbox's prefix.
    const { role, key, type } = own[Number(parts[1]) - 1] ?? { role: 'own', key: '?', type: 'another type' };
    throw ownKeyTypeError(role, key, String(parts[2]), type, nothing);
  }
  if (status === 'HOME') throw new AggregatePartitionError(String(parts[1]), String(parts[2]), partition);
  if (status === 'HOMESTALE') throw new OutboxUnavailableError(`outbox: the home partition claim of an aggregate kept expiring before the write ran (are the cluster nodes' clocks more than 30 s apart?); ${nothing}`);
  if (status === 'APPLIED') return { partition, events: [], duplicate: true, applied: String(parts[1]), extra: [] };
  if (status === 'OK') {
    const events: WrittenEvent[] = write.events.map((event, i) => ({
      id: event.id,
      aggregate: aggregateKey(event.aggregateType, event.aggregateId),
      seq: Number(parts[1 + 2 * i]),
      streamId: String(parts[2 + 2 * i]),
    }));
    return { partition, events, duplicate: false, extra: parts.slice(1 + 2 * write.events.length).map(String) };
  }
  if (status === 'FAILED') {
    const check = write.checks[Number(parts[1]) - 1];
    const why = String(parts[2]);
    const failure: CheckFailure = why === 'type' ? { why, type: String(parts[3]) } : { why: why === 'nokey' || why === 'nofield' ? 'missing' : why === 'present' ? 'present' : 'differs' };
    const own = (check as { [CHECK_FAILURE]?: (failure: CheckFailure, nothing: string) => Error } | undefined)?.[CHECK_FAILURE];
    if (typeof own === 'function') throw own(failure, nothing);
    const found = { nokey: 'its key does not exist', nofield: 'its hash field does not exist', differs: 'the value differs', present: 'it exists', type: `its key holds a ${String(parts[3])}` }[why] ?? 'it failed';
    throw new PreconditionFailedError(`outbox: precondition ${check?.label ? JSON.stringify(check.label) : `#${parts[1]}`} does not hold (${found}); ${nothing}`);
  }
  if (status === 'TYPE' || status === 'VALUE') {
    const command = write.commands[Number(parts[1]) - 1];
    const why = status === 'TYPE' ? `its key holds a ${String(parts[2])}` : 'its value is not an integer or would leave the safe integer range';
    throw new PreconditionFailedError(`outbox: ${command?.[0] ?? 'a command'} (command #${parts[1]}) would fail: ${why}; ${nothing}`);
  }
  if (status === 'FRAGMENT') {
    throw new PreconditionFailedError(`outbox: ${String(parts[1])} refused the write (${String(parts[2])}); ${nothing}`, { retryable: true });
  }
  throw new OutboxUnavailableError('outbox: unexpected reply from the Redis atomic write');
}
