/**
 * Making one new client for a lifecycle: `create` bounded by `connectTimeoutMs` and the waiters'
 * signal, its failure typed, then the connection budget read (when asked for).
 */
import { ConfigurationError, SteadyError, type Logger } from '@steadyfn/handler/internal';
import { judgeBudget, shedError } from './budget.js';
import { ConnectionUnavailableError } from './errors.js';
import { bounded } from './flight.js';
import type { ClientSpec, ClientStats } from './spec.js';
import type { HandleSettings } from './validate.js';

class ConnectTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** What `newClient` needs of its lifecycle. */
export interface NewClientContext<T> {
  spec: ClientSpec<T>;
  settings: HandleSettings;
  stats: ClientStats;
  log: () => Logger;
  /** Closes a client in the background (one that connected too late, or was shed). */
  closeClient: (client: T) => void;
  /** Told whether a budget reading reached `warnRatio` (reconnects then wait a random while). */
  noteNearLimit: (nearLimit: boolean) => void;
}

/**
 * A new client, connected and within the connection budget, or the typed error: a
 * `ConfigurationError` as it is (and logged), the user's own terminal `SteadyError` as it is,
 * anything else a `ConnectionUnavailableError`; `signal.reason` when every waiter gave up.
 *
 * @throws ConnectionBudgetError when the reading reached `shedRatio` (the client is closed).
 */
export async function newClient<T>(ctx: NewClientContext<T>, signal: AbortSignal): Promise<T> {
  const client = await create(ctx, signal);
  await checkBudget(ctx, client, signal);
  return client;
}

async function create<T>({ spec, settings, stats, log, closeClient }: NewClientContext<T>, signal: AbortSignal): Promise<T> {
  const { name, connectTimeoutMs } = settings;
  try {
    return await bounded((s) => spec.create({ signal: s }), connectTimeoutMs, () => new ConnectTimeoutError(`connecting ${name} timed out after ${connectTimeoutMs} ms`), signal, closeClient);
  } catch (err) {
    stats.connectFailures++;
    // Every waiter gave up: nobody reads this error.
    if (signal.aborted && err === signal.reason) throw err;
    if (err instanceof ConfigurationError) {
      // A missing driver, a bundle that cannot load it, a bad URI: say what, on every failed use. Our own message, no values.
      log().error('connections: client cannot be created', { client: name, code: err.code, reason: err.message });
      throw err;
    }
    // The user's own typed terminal errors stay as they are; anything else is a connect failure.
    if (err instanceof SteadyError && !err.retryable) throw err;
    throw new ConnectionUnavailableError(name, err);
  }
}

/** Reads the connection budget of a new client; closes it and throws when shedding. */
async function checkBudget<T>({ spec, settings, stats, log, closeClient, noteNearLimit }: NewClientContext<T>, client: T, signal: AbortSignal): Promise<void> {
  const { name, budget, pingTimeoutMs } = settings;
  const readBudget = spec.readBudget;
  if (!budget || !readBudget) return;
  const verdict = await judgeBudget(name, budget, () => readBudget(client), pingTimeoutMs, signal, log).catch((err: unknown) => {
    closeClient(client);
    throw err;
  });
  if (!verdict) return;
  stats.budget = verdict.reading;
  noteNearLimit(verdict.nearLimit);
  if (verdict.shed) {
    stats.connectFailures++;
    closeClient(client);
    throw shedError(name, budget, verdict.reading);
  }
}
