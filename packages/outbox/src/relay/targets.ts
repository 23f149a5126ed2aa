/**
 * Checks of what the relay's consumer entry points are handed from outside: the keys of a
 * watchdog message (`relayWatchdog`) and the refs of `flushTargets`. Both name aggregates; each
 * must be one this outbox can hold (its `where` and aggregate type, `aggregateRefProblem`)
 * before anything is read, so a garbled or foreign message relays nothing instead of some of it.
 */
import { isRecord } from '@steadyfn/handler/internal';
import { RelayTargetInvalidError } from '../errors.js';
import { MAX_WATCHDOG_KEYS } from '../sqs/watchdog-message.js';
import { aggregateRefProblem } from './redrive.js';
import type { AggregateRef, RelayStore } from './types.js';

type Store = Pick<RelayStore, 'refIssue'>;

const KEY_SHAPE = 'JSON text of [where, aggregate] (what the outbox watchdog writes)';
const REF_SHAPE = 'an object { where, aggregate, since? }';
const REF_KEYS = new Set(['where', 'aggregate', 'since']);

/**
 * The aggregates a watchdog message's `keys` name; `[]` when it names none (absent or empty:
 * the whole outbox).
 *
 * @throws RelayTargetInvalidError (`OUTBOX_RELAY_TARGET_INVALID`, field `keys`, `keys[i]`,
 *   `keys[i].where` or `keys[i].aggregate`) when a key cannot name an aggregate of this outbox.
 */
export function watchdogRefs(keys: unknown, aggregateTypes: ReadonlySet<string>, store: Store): AggregateRef[] {
  const refuse = (field: string, message: string, expected: string): never => {
    throw new RelayTargetInvalidError('relayWatchdog', field, message, expected);
  };
  if (keys === undefined) return [];
  if (!Array.isArray(keys) || keys.length > MAX_WATCHDOG_KEYS) {
    refuse('keys', `the watchdog message's "keys" must be an array of at most ${MAX_WATCHDOG_KEYS} keys`, `an array of at most ${MAX_WATCHDOG_KEYS} strings, each ${KEY_SHAPE}`);
  }
  return (keys as unknown[]).map((key, i) => {
    let pair: unknown;
    try {
      pair = typeof key === 'string' ? JSON.parse(key) : undefined;
    } catch {
      pair = undefined;
    }
    if (!Array.isArray(pair) || pair.length !== 2) refuse(`keys[${i}]`, `key ${i} of the watchdog message is not ${KEY_SHAPE}`, KEY_SHAPE);
    const [where, aggregate] = pair as unknown[];
    const problem = aggregateRefProblem(where, aggregate, aggregateTypes, store);
    if (problem) refuse(`keys[${i}].${problem.field}`, `key ${i} of the watchdog message: ${problem.message}`, problem.expected);
    return { where: where as string, aggregate: aggregate as string, since: 0 };
  });
}

/**
 * `flushTargets`' refs, checked and copied (`since` 0 where absent).
 *
 * @throws RelayTargetInvalidError (`OUTBOX_RELAY_TARGET_INVALID`, field `refs`, `refs[i]` or
 *   `refs[i].<field>`) for a value that is not an array of `{ where, aggregate, since? }` naming
 *   aggregates of this outbox.
 */
export function flushRefs(refs: unknown, aggregateTypes: ReadonlySet<string>, store: Store): AggregateRef[] {
  const refuse = (field: string, message: string, expected: string): never => {
    throw new RelayTargetInvalidError('flushTargets', field, message, expected);
  };
  if (!Array.isArray(refs)) refuse('refs', '"refs" must be an array of aggregate refs', `an array of ${REF_SHAPE}`);
  return (refs as unknown[]).map((ref, i) => {
    if (!isRecord(ref) || Array.isArray(ref)) refuse(`refs[${i}]`, `ref ${i} must be ${REF_SHAPE}`, REF_SHAPE);
    const record = ref as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!REF_KEYS.has(key)) refuse(`refs[${i}].${key}`, `"${key}" is not a field of an aggregate ref; the fields are where, aggregate, since`, 'one of where, aggregate, since');
    }
    const problem = aggregateRefProblem(record.where, record.aggregate, aggregateTypes, store);
    if (problem) refuse(`refs[${i}].${problem.field}`, `ref ${i}: ${problem.message}`, problem.expected);
    const since = record.since ?? 0;
    if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) refuse(`refs[${i}].since`, `ref ${i}: "since" must be epoch ms (an integer ≥ 0) or absent`, 'an integer ≥ 0 (epoch ms), or absent');
    return { where: record.where as string, aggregate: record.aggregate as string, since: since as number };
  });
}
