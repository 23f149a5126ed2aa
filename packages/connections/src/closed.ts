/**
 * A driver error the function's own use of a client raised (on its ctx value, not through
 * `run`) after that client was closed under it — by this package (a rebuild, `closeAll`,
 * SIGTERM) or by the function itself (`ctx.mongo.client.close()` in a concurrent invocation) —
 * or because its connection failed (a reset, a server gone: `MongoNetworkError`), typed the way
 * `run` would have typed it, minus the repeat: the function's code is not ours to run again.
 * The plugin's `onError` asks each handle (`CLOSED_ERROR`).
 */
import { ConnectionLostError, ConnectionUnavailableError, type ClosedBy } from './errors.js';
import type { ClientLifecycle } from './lifecycle.js';

/** `handle[CLOSED_ERROR]`: the typed error for `err` raised on `client`, or undefined. */
export type ClosedError<T> = (client: T, err: unknown) => ConnectionLostError | ConnectionUnavailableError | undefined;

/**
 * `handle[CLOSED_ERROR]` for one handle, with the handle's own classification: a connection
 * error (`isConnErr`) on a closed client is `CONNECTION_UNAVAILABLE` when it proves the operation
 * unsent (`notSent`), else `CONNECTION_LOST` (it may have been applied). On a client nobody
 * closed, only an error its driver raises for a failed connection (`isDriverNetworkErr`: one no
 * other driver raises, so it is this handle's) is typed so, and the client is checked before its
 * next use, as after such an error through `run`. Anything else is left as it is (undefined): the
 * function's own error, the handler's `INTERNAL`.
 *
 * @param closedByUser - Whether the client's user closed it (the factory knows how to tell, e.g.
 *   `MongoClient#close()` called); without it only a close by this package counts.
 * @param isDriverNetworkErr - Whether `err` is a failed connection of this handle's driver
 *   (`mongo()`: the MongoDB driver's network, server selection and pool errors); without it, an
 *   error on a client nobody closed is never typed.
 */
export function closedErrorOf<T>(
  name: string,
  life: Pick<ClientLifecycle<T>, 'closedHere' | 'distrust'>,
  isConnErr: (err: unknown) => boolean,
  notSent: (err: unknown) => boolean,
  closedByUser: ((client: T) => boolean) | undefined,
  isDriverNetworkErr?: (err: unknown) => boolean,
): ClosedError<T> {
  return (client, err) => {
    const by: ClosedBy | undefined = life.closedHere(client) ? 'connections' : closedByUser?.(client) ? 'function' : undefined;
    if (by === undefined) {
      if (isDriverNetworkErr?.(err) !== true) return undefined;
      life.distrust(client);
      return notSent(err) ? new ConnectionUnavailableError(name, err) : new ConnectionLostError(name, err, false, undefined, true);
    }
    if (!isConnErr(err)) return undefined;
    return notSent(err) ? new ConnectionUnavailableError(name, err, by) : new ConnectionLostError(name, err, false, by);
  };
}
