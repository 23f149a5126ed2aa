/**
 * Redrive: releasing a quarantined aggregate and relaying it again, from a reference the
 * caller holds (the `outbox aggregate quarantined` warning's `where`, `aggregate`, `fromSeq`
 * and `quarantinedAt`, or an entry of `listQuarantined`). The reference is outside input: it
 * is checked against this outbox (its shape, the declared aggregate types, the store's
 * partitions or collection) before anything is read, and it must carry the quarantine's
 * identity (`fromSeq` and `quarantinedAt`: a quarantine taken again from the same seq has
 * another `quarantinedAt`). The store releases only the quarantine it names — so a wrong
 * reference changes nothing and a stale one (already redriven, or quarantined again since)
 * releases and sends nothing. There is no "release whatever is quarantined now" by omission:
 * a caller who wants that reads the current quarantine with `listQuarantined` and passes that
 * entry.
 */
import { randomUUID } from 'node:crypto';
import { isRecord, sleep, throwIfAborted } from '@steadyfn/handler/internal';
import type { LeaseStore } from '@steadyfn/lease';
import { checkAggregateId } from '../envelope.js';
import { RedriveRefInvalidError } from '../errors.js';
import type { QuarantineRef, RedriveOutcome, RelayStore } from './types.js';
import { hashedAggregate, MAX_LEASE_KEY_LENGTH } from '../stores/redis-keys.js';

/** The keys a reference may carry: those of a `listQuarantined` entry. */
const REF_KEYS = new Set(['where', 'aggregate', 'fromSeq', 'quarantinedAt', 'reason']);

/** Why an identity field is required, said when it is missing. */
const MISSING = ': it is missing, and a reference names one quarantine by its fromSeq and quarantinedAt together (the quarantine warning and listQuarantined give both; to release what is quarantined now, pass the listQuarantined entry)';

/** Longest `where` taken: a partition tag or a collection name is far shorter. */
const MAX_WHERE_LENGTH = 1024;

function refuse(field: string, message: string, expected: string): never {
  throw new RedriveRefInvalidError(field, message, expected);
}

/**
 * Checks a redrive reference against this outbox and returns it normalised.
 *
 * @param aggregateTypes - The aggregate types this outbox's events declare.
 * @throws RedriveRefInvalidError (`OUTBOX_REDRIVE_REF_INVALID`, naming the field) when `value`
 *   cannot name a quarantine of this outbox.
 */
export function checkRedriveRef(value: unknown, aggregateTypes: ReadonlySet<string>, store: Pick<RelayStore, 'refIssue'>): QuarantineRef {
  const shape = 'an object { where, aggregate, fromSeq, quarantinedAt } (what the quarantine warning or listQuarantined names)';
  if (!isRecord(value) || Array.isArray(value)) refuse('ref', `the reference must be ${shape}`, shape);
  for (const key of Object.keys(value)) {
    if (key === 'since') refuse(key, '"since" is not a field of a redrive reference: the time the quarantine was taken is "quarantinedAt" (as the quarantine warning and listQuarantined name it)', 'one of where, aggregate, fromSeq, quarantinedAt');
    if (!REF_KEYS.has(key)) refuse(key, `"${key}" is not a field of a redrive reference; the fields are where, aggregate, fromSeq, quarantinedAt`, 'one of where, aggregate, fromSeq, quarantinedAt');
  }
  const { where, aggregate, fromSeq, quarantinedAt } = value as Record<string, unknown>;
  const problem = aggregateRefProblem(where, aggregate, aggregateTypes, store);
  if (problem) refuse(problem.field, problem.message, problem.expected);
  // The quarantine's identity: without it, a reference read before a redrive (by someone
  // else) and a new quarantine of the aggregate would release that newer one.
  if (typeof fromSeq !== 'number' || !Number.isSafeInteger(fromSeq) || fromSeq < 1) {
    refuse('fromSeq', `"fromSeq" must be the quarantine's first held seq (an integer ≥ 1)${fromSeq === undefined ? MISSING : ''}`, 'an integer ≥ 1');
  }
  if (typeof quarantinedAt !== 'number' || !Number.isSafeInteger(quarantinedAt) || quarantinedAt < 0) {
    refuse('quarantinedAt', `"quarantinedAt" must be the epoch ms the quarantine was taken (an integer ≥ 0)${quarantinedAt === undefined ? MISSING : ''}`, 'an integer ≥ 0 (epoch ms)');
  }
  return { where: where as string, aggregate: aggregate as string, fromSeq, quarantinedAt };
}

/** Why a reference's `where` and `aggregate` cannot name an aggregate of this outbox. */
export interface AggregateRefProblem {
  field: 'where' | 'aggregate';
  message: string;
  expected: string;
}

/**
 * Why `where` and `aggregate` (outside input: a redrive reference, a watchdog message's key, a
 * `flushTargets` ref) cannot name an aggregate of this outbox, judged from the text alone: not
 * non-empty strings, an aggregate type the outbox does not declare, a bad aggregate id, or a
 * `where` of another outbox (the store's `refIssue`). Undefined when they can.
 */
export function aggregateRefProblem(where: unknown, aggregate: unknown, aggregateTypes: ReadonlySet<string>, store: Pick<RelayStore, 'refIssue'>): AggregateRefProblem | undefined {
  if (typeof where !== 'string' || where.length === 0 || where.length > MAX_WHERE_LENGTH) {
    return { field: 'where', message: '"where" must be the aggregate\'s partition or collection (a non-empty string)', expected: 'a non-empty string of at most 1024 characters' };
  }
  const types = [...aggregateTypes].join(', ');
  const expectedAggregate = `"<aggregateType>/<aggregateId>" with an aggregate type of this outbox (${types})`;
  const slash = typeof aggregate === 'string' ? aggregate.indexOf('/') : -1;
  if (typeof aggregate !== 'string' || slash < 1 || !aggregateTypes.has(aggregate.slice(0, slash))) {
    return { field: 'aggregate', message: `"aggregate" must name an aggregate of this outbox: ${expectedAggregate}`, expected: expectedAggregate };
  }
  try {
    checkAggregateId(aggregate.slice(slash + 1));
  } catch {
    return { field: 'aggregate', message: '"aggregate" must end in an aggregate id of 1-256 characters without control characters', expected: expectedAggregate };
  }
  const issue = store.refIssue({ where, aggregate });
  if (issue) return { field: issue.field, message: `"${issue.field}" cannot be this outbox's: expected ${issue.expected}`, expected: issue.expected };
  return undefined;
}

/** What `redrive()` answers: released and relayed, or why nothing was done. */
export type RedriveResult<M> = { redriven: true; metrics: M } | { redriven: false; skipped: 'not-quarantined' | 'quarantine-changed'; metrics: M };

/** First pause before claiming again a redrive another call holds; doubles up to `MAX_WAIT_MS`. */
const FIRST_WAIT_MS = 10;
const MAX_WAIT_MS = 250;

/**
 * The lease key of one quarantine's redrive: the aggregate's relay lease key (so it lands where
 * that lease does, in the same Redis Cluster slot) with the quarantine's identity after it;
 * with the aggregate hashed (`hashedAggregate`) when that would pass the lease store's
 * 1,024 characters.
 */
export function redriveLeaseKey(store: Pick<RelayStore, 'leaseKey'>, ref: QuarantineRef): string {
  const suffix = `:redrive:${ref.fromSeq}:${ref.quarantinedAt}`;
  const key = `${store.leaseKey({ where: ref.where, aggregate: ref.aggregate, since: 0 })}${suffix}`;
  if (key.length <= MAX_LEASE_KEY_LENGTH) return key;
  // Too long for the lease store: the aggregate hashed (never an aggregate: no `/`), same `where`, same slot.
  return `${store.leaseKey({ where: ref.where, aggregate: hashedAggregate(ref.aggregate), since: 0 })}${suffix}`;
}

/**
 * The store's `redrive` (read the quarantine, check its identity, release it) while holding a
 * lease on that quarantine (`redriveLeaseKey`), so redrives of one quarantine take turns. Why
 * a lease: on FerretDB a filtered update is a read and then a write by `_id`, so two releases of
 * one quarantine both "match", and a late one can remove the quarantine the winner's relay has
 * just taken again. Under the lease, the first releases it and answers `redriven`; each later
 * one finds it released (`not-quarantined`) or taken again (`quarantine-changed`) and writes
 * nothing. A call that finds the lease held waits (10 ms, doubling to 250 ms) until the holder
 * releases it, or until its lease ends (`leaseMs`, the store's clock) when the holder died
 * mid-release: then this call takes it over and finishes the release itself.
 *
 * @throws the signal's reason when it aborts while waiting or during a store call.
 */
export async function releaseQuarantine(store: RelayStore, lease: LeaseStore, ref: QuarantineRef, options: { leaseMs: number; signal?: AbortSignal | undefined }): Promise<RedriveOutcome> {
  const { signal } = options;
  const call = signal ? { signal } : {};
  const key = redriveLeaseKey(store, ref);
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, MAX_WAIT_MS)) {
    throwIfAborted(signal);
    // A token per attempt, as the lease asks: a Redis lease reads a claim meeting its own token as its own resent claim.
    const owner = randomUUID();
    const claim = await lease.claim({ key, owner, leaseMs: options.leaseMs }, call);
    if (claim.claimed) {
      try {
        return await store.redrive(ref, call);
      } finally {
        // Released, not settled: the quarantine's own state answers every later call.
        await lease.settle({ key, owner, fence: claim.fence }, call).catch(() => undefined);
      }
    }
    await sleep(Math.min(wait, Math.max(1, claim.record.expiresAt - Date.now())), signal);
  }
}

/**
 * Releases the quarantine `ref` names (`releaseQuarantine`) and, when it did, relays the
 * aggregate (`relayAgain`).
 *
 * @throws RedriveRefInvalidError (field `aggregate`) when the store never held the aggregate at `ref.where`.
 */
export async function redriveQuarantine(
  store: RelayStore,
  lease: LeaseStore,
  ref: QuarantineRef,
  options: { leaseMs: number; signal?: AbortSignal | undefined },
  relayAgain: () => Promise<void>,
): Promise<Exclude<RedriveOutcome, 'unknown'>> {
  const outcome = await releaseQuarantine(store, lease, ref, options);
  if (outcome === 'unknown') {
    refuse('aggregate', `no aggregate "${ref.aggregate}" was ever at "${ref.where}" in this outbox (a wrong or another outbox's reference)`, 'an aggregate this outbox holds at that where');
  }
  if (outcome === 'redriven') await relayAgain();
  return outcome;
}
