/**
 * A driver error the function's own use of a client raised (on its ctx value, not through
 * `run`) after that client was closed under it — by this package (a rebuild, `closeAll`,
 * SIGTERM) or by the function itself (`ctx.mongo.client.close()` in a concurrent invocation) —
 * typed the way `run` would have typed it, minus the repeat: the function's code is not ours to
 * run again. The plugin's `onError` asks each handle (`CLOSED_ERROR`).
 */
import { ConnectionLostError, ConnectionUnavailableError, type ClosedBy } from './errors.js';
import type { ClientLifecycle } from './lifecycle.js';

/** `handle[CLOSED_ERROR]`: the typed error for `err` raised on `client`, or undefined. */
export type ClosedError<T> = (client: T, err: unknown) => ConnectionLostError | ConnectionUnavailableError | undefined;

/**
 * `handle[CLOSED_ERROR]` for one handle, with the handle's own classification: a connection
 * error (`isConnErr`) on a closed client is `CONNECTION_UNAVAILABLE` when it proves the operation
 * unsent (`notSent`), else `CONNECTION_LOST` (it may have been applied); anything else, or a
 * client nobody closed, is left as it is (undefined).
 *
 * @param closedByUser - Whether the client's user closed it (the factory knows how to tell, e.g.
 *   `MongoClient#close()` called); without it only a close by this package counts.
 */
export function closedErrorOf<T>(
  name: string,
  life: Pick<ClientLifecycle<T>, 'closedHere'>,
  isConnErr: (err: unknown) => boolean,
  notSent: (err: unknown) => boolean,
  closedByUser: ((client: T) => boolean) | undefined,
): ClosedError<T> {
  return (client, err) => {
    const by: ClosedBy | undefined = life.closedHere(client) ? 'connections' : closedByUser?.(client) ? 'function' : undefined;
    if (by === undefined || !isConnErr(err)) return undefined;
    return notSent(err) ? new ConnectionUnavailableError(name, err, by) : new ConnectionLostError(name, err, false, by);
  };
}
