/**
 * The capture script's reply as `redisWrite`'s result, or as its typed refusal: an own key of
 * another type, an aggregate homed in another partition, a check that does not hold, a command
 * that would fail, a fragment's refusal.
 */
import { aggregateKey } from '../envelope.js';
import { AggregatePartitionError, OutboxUnavailableError, PreconditionFailedError } from '../errors.js';
import { ownKeyTypeError } from '../stores/redis-keys.js';
import type { OwnKey } from './redis-plan.js';
import { CHECK_FAILURE, type CheckFailure, type RedisWrite, type RedisWriteResult, type WrittenEvent } from './redis-write-types.js';

/** The script's reply as the write's result or its refusal; `nothing`: what a refusal says was written. */
export function readReply(reply: unknown, write: RedisWrite, partition: string, own: ReadonlyArray<OwnKey>, nothing: string): RedisWriteResult {
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
