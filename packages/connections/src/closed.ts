/**
 * A driver error the function's own use of a client raised (on its ctx value, not through
 * `run`) after that client was closed under it — by this package (a rebuild, `closeAll`,
 * SIGTERM) or by the function itself (`ctx.mongo.client.close()` in a concurrent invocation) —
 * or because its connection failed (a reset, a server gone: `MongoNetworkError`), typed the way
 * `run` would have typed it, minus the repeat: the function's code is not ours to run again (the
 * driver's own `retryWrites` / `retryReads` may have sent it once more on a replica set, `mongos`
 * or load balancer, where therefore no error proves it unsent: `CONNECTION_LOST`). The plugin's
 * `onError` asks each handle (`CLOSED_ERROR`) and attributes the error (`attributeClosed`).
 */
import { ConnectionLostError, ConnectionUnavailableError, type ClosedBy } from './errors.js';
import type { ClientLifecycle } from './lifecycle.js';

/**
 * Whether a driver network error was raised by a given client: `'yes'` (the error names a server
 * of that client), `'maybe'` (it names none — a socket reset reports no address — or only an
 * IP its socket reached that cannot be compared with a client's host names), or false (not
 * a network error of this driver, or one of a server this client does not use).
 */
export type DriverErrorOwner = 'yes' | 'maybe' | false;

/**
 * What `handle[CLOSED_ERROR]` found: the typed error, whether the error is surely this handle's,
 * and `distrust()` to have its client checked before its next use (the plugin calls it only for
 * the handles it attributes the error to).
 */
export interface ClosedVerdict {
  error: ConnectionLostError | ConnectionUnavailableError;
  /** The client was closed under the operation (by this package or the function): surely this handle's. */
  closed: boolean;
  /** For a network error on a client nobody closed: the error names one of this client's servers. */
  sure: boolean;
  distrust(): void;
}

/** `handle[CLOSED_ERROR]`: what `err` raised on `client` is, or undefined. */
export type ClosedError<T> = (client: T, err: unknown) => ClosedVerdict | undefined;

const NOTHING = (): void => undefined;

/**
 * `handle[CLOSED_ERROR]` for one handle, with the handle's own classification: a connection
 * error (`isConnErr`) on a closed client is `CONNECTION_UNAVAILABLE` when it proves the operation
 * unsent (`notSent`), else `CONNECTION_LOST` (it may have been applied). On a client nobody
 * closed, only an error its driver raises for a failed connection (`isDriverNetworkErr`: one no
 * other driver raises) is typed so, and only when it may be this client's (see
 * `DriverErrorOwner`); the plugin then decides which handles it concerns. Anything else is left
 * as it is (undefined): the function's own error, the handler's `INTERNAL`.
 *
 * @param closedByUser - Whether the client's user closed it (the factory knows how to tell, e.g.
 *   `MongoClient#close()` called); without it only a close by this package counts.
 * @param isDriverNetworkErr - Whether `err` is a failed connection of this handle's driver raised
 *   by `client` (`mongo()`: the MongoDB driver's network, server selection and pool errors, tied
 *   by the server address they name); without it, an error on a client nobody closed is never typed.
 */
export function closedErrorOf<T>(
  name: string,
  life: Pick<ClientLifecycle<T>, 'closedHere' | 'distrust'>,
  isConnErr: (err: unknown) => boolean,
  notSent: (err: unknown) => boolean,
  closedByUser: ((client: T) => boolean) | undefined,
  isDriverNetworkErr?: (err: unknown, client: T) => DriverErrorOwner,
): ClosedError<T> {
  return (client, err) => {
    // A thrown value that cannot be read (a revoked Proxy: any property read throws) is the
    // function's own error, left as the INTERNAL one: a throw here would replace it.
    try {
      return classify(client, err);
    } catch {
      return undefined;
    }
  };
  function classify(client: T, err: unknown): ClosedVerdict | undefined {
    const by: ClosedBy | undefined = life.closedHere(client) ? 'connections' : closedByUser?.(client) ? 'function' : undefined;
    if (by === undefined) {
      const owner = isDriverNetworkErr?.(err, client);
      if (owner !== 'yes' && owner !== 'maybe') return undefined;
      const error = notSent(err) ? new ConnectionUnavailableError(name, err) : new ConnectionLostError(name, err, false, undefined, true);
      return { error, closed: false, sure: owner === 'yes', distrust: () => life.distrust(client) };
    }
    if (!isConnErr(err)) return undefined;
    const error = notSent(err) ? new ConnectionUnavailableError(name, err, by) : new ConnectionLostError(name, err, false, by);
    return { error, closed: true, sure: true, distrust: NOTHING };
  }
}

/**
 * Which of `verdicts` (one per handle that typed the error) a driver network error is attributed
 * to, and the error to throw: a handle whose client was closed under it first; else the one handle
 * whose servers the error names; else (no address, or a server several clients share) every
 * handle concerned, each checked before its next use, and an error naming them all ("orders or
 * audit") — never one that may be wrong. Undefined when there is none.
 */
export function attributeClosed(verdicts: ReadonlyArray<ClosedVerdict>, cause: unknown): ConnectionLostError | ConnectionUnavailableError | undefined {
  const closed = verdicts.find((v) => v.closed);
  if (closed) return closed.error;
  const sure = verdicts.filter((v) => v.sure);
  const chosen = sure.length === 1 ? sure : verdicts;
  for (const v of chosen) v.distrust();
  if (chosen.length <= 1) return chosen[0]?.error;
  const names = chosen.map((v) => v.error.client).join(' or ');
  return chosen.every((v) => v.error instanceof ConnectionUnavailableError) ? new ConnectionUnavailableError(names, cause) : new ConnectionLostError(names, cause, false, undefined, true);
}
