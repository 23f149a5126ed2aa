/**
 * Redis capture: the author's state commands, their preconditions and the outbox events in
 * one Lua script (see `redis-script.ts`), so state and events are written together or not
 * at all. Every key of one write shares a hash tag (its *partition*), so the write is one
 * script on one Redis Cluster slot. The write is planned (`redis-plan.ts`: every argument
 * checked first), its aggregates' homes claimed on a cluster (`redis-home.ts`), the script sent,
 * and its reply read as the result or a typed refusal (`redis-reply.ts`).
 */
import { AggregatePartitionError, claimsWritten, OutboxUnavailableError, PreconditionFailedError } from '../errors.js';
import { runLuaScript } from '@steadyfn/lease';
import type { RedisLike } from '../stores/redis-client.js';
import { ownKeyWrongType, partitionsKey } from '../stores/redis-keys.js';
import { claimHome, confirmedHomes } from './redis-home.js';
import { planWrite } from './redis-plan.js';
import { readReply } from './redis-reply.js';
import { captureScript } from './redis-script.js';
import type { RedisWrite, RedisWriteResult } from './redis-write-types.js';

export { CHECK_FAILURE, type CheckFailure, type RedisCheck, type RedisWrite, type RedisWriteResult, type WrittenEvent } from './redis-write-types.js';
export { REDIS_COMMANDS, partitionOf, type RedisCommand, type RedisCommandName } from './redis-commands.js';

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
 * @throws what `planned` throws (nothing written).
 * @param planned Runs once the plan passed (every check that needs no server), before anything
 *   is claimed or sent, with the write's partition: the plugin arms its watchdog there.
 */
export async function redisWrite(client: RedisLike, prefix: string, write: RedisWrite, planned?: (partition: string) => Promise<void>): Promise<RedisWriteResult> {
  const { keys, args, arg, plan, own, marker, partition, aggregates, listing, placed } = planWrite(client, prefix, write);
  await planned?.(partition);

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
