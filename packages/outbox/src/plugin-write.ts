/**
 * The outbox plugin's write path around the store's write: the watchdog armed for the events a
 * write carries — only once that write passed every check that needs no server (Redis: its plan;
 * embedded: `checkEmbeddedWrite`), so a write refused for its own input sends no message — and
 * the flush of what the invocation wrote. The writes themselves are the modes' (src/modes).
 */
import { checkEmbeddedWrite } from './capture/mongo-embedded.js';
import { aggregateKey, type PendingEvent } from './envelope.js';
import type { InvocationState } from './invocation.js';
import { writeFailure } from './modes/embedded-mode.js';
import type { ResolvedRelay, Watchdog } from './options.js';
import { depsOf, runOptionsOf } from './relay/entry.js';
import { relayAggregates } from './relay/relay.js';
import type { RelayStore } from './relay/types.js';
import type { OutboxStore } from './stores/outbox-store.js';
import { MAX_WATCHDOG_KEY_LENGTH, watchdogKey } from './sqs/watchdog-message.js';

/** Runs before each embedded update of `events`: its checks, the lease judge, then the watchdog armed for them. */
export type EmbeddedWriteCheck = (state: InvocationState, write: { filter: Record<string, unknown>; update: Record<string, unknown> }, events: ReadonlyArray<PendingEvent>) => Promise<void>;

/** What the write path needs of the plugin. */
export interface WritePathDeps {
  /** The outbox's name (its watchdog messages). */
  name: string;
  watchdog: Watchdog | undefined;
  store: OutboxStore;
  relay: ResolvedRelay | undefined;
  /** The store's relay side, settling through the relay's lease where it can. */
  relayStore: RelayStore;
  /** The relay lease's server probe (embedded mode on FerretDB); resolves at once elsewhere. */
  judgeLease: () => Promise<void>;
}

/** The write path's steps, for the plugin's hooks. */
export interface WritePath {
  /**
   * Arms the watchdog for `events`, written at `where` (the Redis partition, the collection,
   * `outbox`); nothing without a watchdog or events. A key past `MAX_WATCHDOG_KEY_LENGTH` arms
   * the whole outbox, as past `MAX_WATCHDOG_KEYS`.
   * @throws WatchdogUnavailableError when the relay queue does not take the message.
   */
  armWatchdog(state: InvocationState, where: string, events: ReadonlyArray<PendingEvent>): Promise<void>;
  /**
   * Before each embedded write: its arguments checked, a failed server probe fails it (nothing is
   * written un-judged), then the watchdog armed for its events. Nothing in another mode.
   * @throws EventInvalidError for what `checkEmbeddedWrite` refuses (nothing armed).
   */
  beforeEmbeddedWrite: EmbeddedWriteCheck;
  /** Relays what this invocation wrote, once (nothing without `relay.flush`). */
  flush(state: InvocationState): Promise<void>;
}

/** The write path of one outbox plugin. */
export function writePath({ name, watchdog, store, relay, relayStore, judgeLease }: WritePathDeps): WritePath {
  const armWatchdog = async (state: InvocationState, where: string, events: ReadonlyArray<PendingEvent>): Promise<void> => {
    if (!watchdog || events.length === 0) return;
    const keys = [...new Set(events.map((e) => watchdogKey(where, aggregateKey(e.aggregateType, e.aggregateId))))];
    const target = keys.every((k) => k.length <= MAX_WATCHDOG_KEY_LENGTH) ? { outbox: name, keys } : { outbox: name };
    await watchdog.arm(target, { signal: state.ctx.signal });
  };

  const beforeEmbeddedWrite: EmbeddedWriteCheck = async (state, write, events) => {
    if (store.mode !== 'mongo-embedded') return;
    await checkEmbeddedWrite(store.aggregateType, write, events, store.limits);
    await judgeLease().catch((error: unknown) => {
      throw writeFailure(error);
    });
    await armWatchdog(state, (await store.collection()).collectionName, events);
  };

  const flush = async (state: InvocationState): Promise<void> => {
    const written = state.written;
    state.written = [];
    if (!relay?.flush || written.length === 0) return;
    // The write judged the lease already; judged here too, so no path relays un-judged.
    await judgeLease();
    await relayAggregates(depsOf(relay, relayStore, state.metrics, state.ctx), written, runOptionsOf(relay, state.ctx));
  };

  return { armWatchdog, beforeEmbeddedWrite, flush };
}
