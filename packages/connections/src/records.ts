/**
 * What each client did for one invocation (new / reused / revalidated / reconnected, idle
 * time, retries), keyed by that invocation's ctx so concurrent invocations of a batch
 * keep separate records. The plugin opens a record; handles add to it.
 */
import { currentContext } from '@steadyfn/handler';

export type AcquireState = 'new' | 'reused' | 'revalidated' | 'reconnected';

export interface UseRecord {
  /** How the client was obtained the first time this invocation used it. */
  state: AcquireState;
  /** Milliseconds since the client was last used, before this invocation; undefined when it is new. */
  idleMs: number | undefined;
  /** Clients built during this invocation after a failed check or a broken connection. */
  reconnects: number;
  /** Operations repeated once after a connection error. */
  retries: number;
}

const byContext = new WeakMap<object, Map<string, UseRecord>>();

/** Starts collecting records for `ctx` (called by the plugin). */
export function openRecords(ctx: object): Map<string, UseRecord> {
  const records = new Map<string, UseRecord>();
  byContext.set(ctx, records);
  return records;
}

export function recordsOf(ctx: object): Map<string, UseRecord> | undefined {
  return byContext.get(ctx);
}

function current(): Map<string, UseRecord> | undefined {
  const ctx = currentContext();
  return ctx ? byContext.get(ctx) : undefined;
}

export function noteAcquire(client: string, state: AcquireState, idleMs: number | undefined): void {
  const records = current();
  if (!records) return;
  const record = records.get(client);
  if (!record) {
    records.set(client, { state, idleMs, reconnects: state === 'reconnected' ? 1 : 0, retries: 0 });
    return;
  }
  if (state === 'reconnected') record.reconnects++;
}

export function noteRetry(client: string): void {
  const record = current()?.get(client);
  if (record) record.retries++;
}
