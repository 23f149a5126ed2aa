/**
 * `outbox()` options, validated once when the function is defined: a bad option is a
 * `ConfigurationError` naming it, what was expected and what was given.
 */
import { checkKnownKeys, intOption, invalidOption, isRecord, keysOf, msOption } from '@steadyfn/handler/internal';
import { ConfigurationError } from './errors.js';
import { isInProcessLeaseStore } from '@steadyfn/lease';
import type { CallerContextOptions } from './context.js';
import { checkDeclarations, type EventDeclarations } from './envelope.js';
import { DEFAULT_MAX_BYTES_PER_ROUND } from './relay/budget.js';
import { DEFAULT_POISON, type PoisonPolicy } from './relay/poison.js';
import { DEFAULT_SWEEP, type SweepOptions } from './relay/sweeper.js';
import type { RelayLease, Sender } from './relay/types.js';
import type { OutboxStore } from './stores/outbox-store.js';

/** What the relay needs: a sender to SQS and the lease primitive. */
export interface RelayOptions {
  /** `sqsSender({ client, queueUrl, ... })` for the events' queue. */
  sender: Sender;
  /**
   * A `@steadyfn/lease` store: one lease per aggregate, so one relay at a time sends it. With
   * the Redis outbox give `redisLeaseStore` on the same Redis (its settle fragment joins the
   * mark script); with transaction mode `mongoLeaseStore` on the same deployment (its settle
   * joins the marks' transaction); with the embedded outbox any lease store.
   */
  lease: RelayLease;
  /**
   * Accept an in-process lease store (`memoryLeaseStore`) as `lease`. Only for tests in one
   * process: in-process leases are not shared, so two instances would relay one aggregate at
   * once. Without it such a store is refused with `ConfigurationError` (`relay.lease`).
   * @default false
   */
  allowInProcessLease?: boolean;
  /** Send right after the commit, in the same invocation. @default true */
  flush?: boolean;
  /**
   * An aggregate's relay lease, judged by the store's clock, in milliseconds. With
   * `mongoEmbeddedOutbox` on FerretDB (writers serialised by `writeLease`) at least twice the
   * store's `writeWaitMs`: a round's marks wait up to that long for the document's write lease.
   * Less is refused (`CONFIG_INVALID`, field `relay.leaseMs`): by `outbox()` with `atomicity:
   * 'lease'`; with `'auto'` (the default) once the server turns out to be FerretDB, at the first
   * `ctx.outbox.updateOne` or relay entry point, before anything is written or sent.
   * @default 30000
   */
  leaseMs?: number;
  /** Most events read from one aggregate per round. @default 50 */
  maxEventsPerAggregate?: number;
  /**
   * Most bytes of event bodies one relay round reads (and so holds) across all its
   * aggregates, in bytes. The budget is spent in order: each aggregate takes its head events
   * in seq order while they fit in what is left (small events leave room for large ones, so
   * SQS batches stay full); one whose head no longer fits waits for the next round (its lease
   * released, read first then). An event larger than the whole budget is read alone, so a
   * round always moves. It bounds the flush (which reads an aggregate's older backlog too),
   * the sweeper and the watchdog alike.
   *
   * Memory: a round holds its bodies about four times at its peak — the store's reply, the
   * body strings, the `SendMessageBatch` request text the SDK builds and its bytes on the
   * socket — and a sweep runs `sweep.parallel` (4) rounds at once: 2 MiB × 4 × 4 ≈ 32 MiB,
   * which with Node, the AWS SDK and the drivers (≈ 50–60 MiB) keeps a sweep under ≈ 100 MiB,
   * inside a 128 MiB function. Measured (test/memory): a sweep of 40 aggregates × 10 events
   * of 200 KiB runs in a 64 MiB V8 heap, adding ≈ 11 MiB of heap and ≈ 46 MiB of RSS to what
   * the process held before it; the unbounded read of before (4 MiB per aggregate, up to
   * ≈ 400 MiB per sweep) died there. Raise it with the function's memory.
   * @default 2097152 (2 MiB)
   * @example outbox({ events, store, relay: { sender, lease, maxBytesPerRound: 8 * 1024 * 1024 } }) // a 512 MiB function
   */
  maxBytesPerRound?: number;
  /** Poison detection; see `PoisonPolicy`. */
  poison?: Partial<PoisonPolicy>;
  /** Stop starting relay rounds when fewer ms than this remain in the invocation. @default 1000 */
  reserveMs?: number;
  /** The sweeper's settings. */
  sweep?: Partial<SweepOptions>;
}

/**
 * A delayed message sent before the commit, whose consumer flushes what is still pending:
 * `outboxWatchdog({ client, queueUrl, delayMs })` from src/sqs satisfies it.
 */
export interface Watchdog {
  arm(target: { outbox: string; keys?: string[] }, options?: { signal?: AbortSignal }): Promise<string>;
}

/** Options of `outbox()`. */
export interface OutboxOptions<D extends EventDeclarations, S extends OutboxStore> {
  /** Names this outbox (watchdog messages, logs). @default 'outbox' */
  name?: string;
  /** The event types the function may record, each with its zod payload schema. */
  events: D;
  /** Where events are recorded: `redisOutbox(...)`, `mongoEmbeddedOutbox(...)`, `mongoTransactionOutbox(...)`. */
  store: S;
  /** Relay to SQS. Without it events wait for a sweeper configured elsewhere. */
  relay?: RelayOptions;
  /** Armed before each commit that records events. */
  watchdog?: Watchdog;
  /** Caller context copied into each envelope, from an explicit allow-list. */
  callerContext?: CallerContextOptions;
}

/** Options with every default filled in. */
export interface ResolvedRelay {
  sender: Sender;
  lease: RelayLease;
  flush: boolean;
  leaseMs: number;
  maxEventsPerAggregate: number;
  maxBytesPerRound: number;
  poison: PoisonPolicy;
  reserveMs: number;
  sweep: SweepOptions;
}

const OWNER = 'outbox';

const OUTBOX_KEYS = keysOf<OutboxOptions<EventDeclarations, OutboxStore>>({ name: true, events: true, store: true, relay: true, watchdog: true, callerContext: true });
const RELAY_KEYS = keysOf<RelayOptions>({ sender: true, lease: true, allowInProcessLease: true, flush: true, leaseMs: true, maxEventsPerAggregate: true, maxBytesPerRound: true, poison: true, reserveMs: true, sweep: true });
const POISON_KEYS = keysOf<PoisonPolicy>({ maxAttempts: true, maxUnfinishedAttempts: true });
const SWEEP_KEYS = keysOf<SweepOptions>({ graceMs: true, maxAggregates: true, chunk: true, parallel: true, retainSentMs: true, cleanupLimit: true, pruneLimit: true });
const CALLER_CONTEXT_KEYS = keysOf<CallerContextOptions>({ allow: true, from: true });

/** What a relay lease store must have. */
const LEASE_METHODS = ['claim', 'claimMany', 'settle', 'settleMany'] as const;
/** The `relay.lease` refusals' "expected": a store every relay (each flush, the sweeper, the watchdog) reaches, and how to make one. */
const SHARED_LEASE = "a @steadyfn/lease store every relay reaches: redisLeaseStore({ client }) on the outbox's Redis server and database, or mongoLeaseStore({ collection })";

function hasMethods(value: unknown, ...names: string[]): boolean {
  return isRecord(value) && names.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');
}

/** Validates and fills in the relay options. */
export function resolveRelay(relay: RelayOptions | undefined): ResolvedRelay | undefined {
  if (relay === undefined) return undefined;
  if (!isRecord(relay)) invalidOption(OWNER, 'relay', 'an object { sender, lease, ... }', relay);
  checkKnownKeys(OWNER, 'relay', relay, RELAY_KEYS);
  checkKnownKeys(OWNER, 'relay.poison', relay.poison, POISON_KEYS);
  checkKnownKeys(OWNER, 'relay.sweep', relay.sweep, SWEEP_KEYS);
  if (!hasMethods(relay.sender, 'send')) invalidOption(OWNER, 'relay.sender', "a sender: sqsSender({ client, queueUrl }) from '@steadyfn/outbox/sqs'", relay.sender);
  if (!hasMethods(relay.lease, ...LEASE_METHODS)) {
    const expected = `${SHARED_LEASE}, not the client or collection itself (it must have ${LEASE_METHODS.join(', ')})`;
    if (!isRecord(relay.lease)) invalidOption(OWNER, 'relay.lease', expected, relay.lease);
    const missing = LEASE_METHODS.filter((name) => typeof (relay.lease as unknown as Record<string, unknown>)[name] !== 'function');
    throw new ConfigurationError(`${OWNER}(): option "relay.lease" must be ${expected}; got an object without ${missing.join(', ')}`, { field: 'relay.lease', expected });
  }
  if (relay.allowInProcessLease !== undefined && typeof relay.allowInProcessLease !== 'boolean') invalidOption(OWNER, 'relay.allowInProcessLease', 'a boolean', relay.allowInProcessLease);
  // Every relay (each function's flush, the sweeper, the watchdog) must see the same leases.
  if (isInProcessLeaseStore(relay.lease) && relay.allowInProcessLease !== true) {
    const expected = `${SHARED_LEASE}; memoryLeaseStore only with relay.allowInProcessLease: true, in a single-process test`;
    throw new ConfigurationError(
      `${OWNER}(): option "relay.lease" must be ${expected}; got memoryLeaseStore(), whose leases this process alone sees: two instances would relay one aggregate at once`,
      { field: 'relay.lease', expected },
    );
  }
  if (relay.flush !== undefined && typeof relay.flush !== 'boolean') invalidOption(OWNER, 'relay.flush', 'a boolean', relay.flush);
  if (relay.poison !== undefined && !isRecord(relay.poison)) invalidOption(OWNER, 'relay.poison', 'an object { maxAttempts?, maxUnfinishedAttempts? }', relay.poison);
  if (relay.sweep !== undefined && !isRecord(relay.sweep)) invalidOption(OWNER, 'relay.sweep', 'an object { graceMs?, maxAggregates?, chunk?, parallel?, retainSentMs?, cleanupLimit?, pruneLimit? }', relay.sweep);
  const poison = relay.poison ?? {};
  const sweep = relay.sweep ?? {};
  return {
    sender: relay.sender,
    lease: relay.lease,
    flush: relay.flush ?? true,
    leaseMs: msOption(OWNER, 'relay.leaseMs', relay.leaseMs, 30_000, 100),
    maxEventsPerAggregate: intOption(OWNER, 'relay.maxEventsPerAggregate', relay.maxEventsPerAggregate, 50, 1, 10_000),
    maxBytesPerRound: intOption(OWNER, 'relay.maxBytesPerRound', relay.maxBytesPerRound, DEFAULT_MAX_BYTES_PER_ROUND, 1_024, 1_073_741_824),
    poison: {
      maxAttempts: intOption(OWNER, 'relay.poison.maxAttempts', poison.maxAttempts, DEFAULT_POISON.maxAttempts, 1, 1000),
      maxUnfinishedAttempts: intOption(OWNER, 'relay.poison.maxUnfinishedAttempts', poison.maxUnfinishedAttempts, DEFAULT_POISON.maxUnfinishedAttempts, 1, 1000),
    },
    reserveMs: msOption(OWNER, 'relay.reserveMs', relay.reserveMs, 1_000, 0),
    sweep: {
      graceMs: msOption(OWNER, 'relay.sweep.graceMs', sweep.graceMs, DEFAULT_SWEEP.graceMs, 0),
      maxAggregates: intOption(OWNER, 'relay.sweep.maxAggregates', sweep.maxAggregates, DEFAULT_SWEEP.maxAggregates, 1, 1_000_000),
      chunk: intOption(OWNER, 'relay.sweep.chunk', sweep.chunk, DEFAULT_SWEEP.chunk, 1, 1_000),
      parallel: intOption(OWNER, 'relay.sweep.parallel', sweep.parallel, DEFAULT_SWEEP.parallel!, 1, 64),
      retainSentMs: msOption(OWNER, 'relay.sweep.retainSentMs', sweep.retainSentMs, DEFAULT_SWEEP.retainSentMs, 0),
      cleanupLimit: intOption(OWNER, 'relay.sweep.cleanupLimit', sweep.cleanupLimit, DEFAULT_SWEEP.cleanupLimit, 1, 1_000_000),
      pruneLimit: intOption(OWNER, 'relay.sweep.pruneLimit', sweep.pruneLimit, DEFAULT_SWEEP.pruneLimit!, 0, 1_000_000),
    },
  };
}

/**
 * `relay.leaseMs` against the store's writers. In embedded mode where writers take the
 * document's write lease (FerretDB), a relay round's marks wait up to the store's `writeWaitMs`
 * for it — on a loaded machine, most of it — and the relay's lease must also cover the claim,
 * the reads, the SQS send and the marks themselves. With a lease that the wait alone can use up,
 * it runs out before the marks round after round: each holder is fenced by the next, which sends
 * the events again and meets the same wait (a livelock; seen in the relay storm test). So the
 * wait may take at most half the lease: `relay.leaseMs` ≥ 2 × `writeWaitMs`. No store where
 * writers never wait (Redis, transaction mode, `atomicity: 'server'`) is concerned. With
 * `atomicity: 'auto'` pass `decided`, the store's `serialisation()` mode once known: before
 * that nothing is refused (MongoDB: writers never wait).
 * @throws {ConfigurationError} `CONFIG_INVALID`, field `relay.leaseMs`, naming `writeWaitMs` and the least lease it allows.
 */
export function checkRelayLease(relay: ResolvedRelay | undefined, store: OutboxStore, decided?: 'server' | 'lease'): void {
  if (relay === undefined || store.mode !== 'mongo-embedded' || store.writeWaitMs === undefined) return;
  const least = 2 * store.writeWaitMs;
  if (relay.leaseMs >= least) return;
  // `atomicity: 'auto'` takes the write lease only on FerretDB: until the server is known
  // (`decided`), nothing is refused — on MongoDB such a lease is fine.
  if ((decided ?? (store.atomicity === 'lease' ? 'lease' : undefined)) !== 'lease') return;
  const expected = `at least ${least} ms, twice mongoEmbeddedOutbox's "writeWaitMs" (${store.writeWaitMs} ms): a relay round's marks wait up to writeWaitMs for the document's write lease, and the relay's lease must outlast that wait and the round's claim, reads, SQS send and marks — raise relay.leaseMs, lower writeWaitMs, or give atomicity: 'server' on MongoDB`;
  throw new ConfigurationError(`${OWNER}(): option "relay.leaseMs" must be ${expected}; got ${relay.leaseMs}`, { field: 'relay.leaseMs', expected });
}

/**
 * The part of `checkRelayLease` that needs the server: with `atomicity: 'auto'` and a
 * `writeLease`, a `relay.leaseMs` under twice `writeWaitMs` is refused once `serialisation()`
 * finds FerretDB (writers take the write lease), and accepted for good on MongoDB. Returns what
 * to await before a write, a flush or a relay run. It judges the very `serialisation()` value
 * they use (the store keeps the first answer for good), and a failed probe fails the call with
 * the probe's error: nothing goes on un-judged — before, the write asked the server again, could
 * get FerretDB's answer and write and relay with the too-short lease.
 * @throws {ConfigurationError} from the returned function, as `checkRelayLease`.
 * @throws the probe's error (the server's `buildInfo` failed) from the returned function.
 */
export function relayLeaseJudge(relay: ResolvedRelay | undefined, store: OutboxStore): () => Promise<void> {
  if (relay === undefined || store.mode !== 'mongo-embedded' || store.atomicity !== 'auto' || store.writeWaitMs === undefined || relay.leaseMs >= 2 * store.writeWaitMs) {
    return async () => undefined;
  }
  let judged = false;
  return async () => {
    if (judged) return;
    checkRelayLease(relay, store, (await store.serialisation()).mode);
    judged = true;
  };
}

/** Validates the top-level options (the store validates its own). */
export function checkOutboxOptions<D extends EventDeclarations, S extends OutboxStore>(options: OutboxOptions<D, S>): { name: string } {
  if (!isRecord(options)) invalidOption(OWNER, 'options', 'an object { events, store, relay? }', options);
  checkKnownKeys(OWNER, '', options, OUTBOX_KEYS);
  checkKnownKeys(OWNER, 'callerContext', options.callerContext, CALLER_CONTEXT_KEYS);
  if (!isRecord(options.events) || Object.keys(options.events).length === 0) invalidOption(OWNER, 'events', 'an object of event declarations { Type: { aggregateType, schema } }', options.events);
  checkDeclarations(OWNER, options.events);
  if (!isRecord(options.store) || typeof (options.store as { mode?: unknown }).mode !== 'string') {
    invalidOption(OWNER, 'store', 'redisOutbox(...), mongoEmbeddedOutbox(...) or mongoTransactionOutbox(...)', options.store);
  }
  // The embedded outbox writes one collection's documents: an outbox none of whose events are
  // of that aggregate type could not write a single event (every add() would fail at run time).
  const store = options.store as { mode: string; aggregateType?: unknown };
  if (store.mode === 'mongo-embedded' && typeof store.aggregateType === 'string') {
    const declared = Object.entries(options.events as Record<string, { aggregateType: string }>);
    if (!declared.some(([, d]) => d.aggregateType === store.aggregateType)) {
      const [type, decl] = declared[0]!;
      invalidOption(OWNER, `events.${type}.aggregateType`, `"${store.aggregateType}", the aggregateType of the mongoEmbeddedOutbox store (its documents are the aggregates; no declared event is of that type)`, decl.aggregateType);
    }
  }
  if (options.watchdog !== undefined && !hasMethods(options.watchdog, 'arm')) invalidOption(OWNER, 'watchdog', "outboxWatchdog({ client, queueUrl }) from '@steadyfn/outbox/sqs'", options.watchdog);
  const caller = options.callerContext;
  if (caller !== undefined && (!isRecord(caller) || !Array.isArray(caller.allow) || !caller.allow.every((a) => typeof a === 'string') || typeof caller.from !== 'function')) {
    invalidOption(OWNER, 'callerContext', 'an object { allow: string[], from: (ctx) => object }', caller);
  }
  const name = options.name ?? 'outbox';
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) invalidOption(OWNER, 'name', '1-64 characters of A-Z a-z 0-9 . _ -', name);
  return { name };
}
