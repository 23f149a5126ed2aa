/**
 * A Cluster command whose reply was lost with its node connection is not sent again by ioredis.
 *
 * How ioredis (5 and 6) ends the commands of a node connection that closes: the node's close
 * handler (`lib/redis/event_handler.ts`, `closeHandler` → `close()`; a Cluster's node
 * connections have no `retryStrategy`) calls `flushQueue(new Error("Connection is closed."))`,
 * which rejects with that one error both the node's `offlineQueue` (commands not written yet:
 * the node was still connecting) and its `commandQueue` (commands written to the socket whose
 * reply had not come: the server may have applied them). The Cluster's wrapper of every
 * command's `reject` (`Cluster#sendCommand`) gives the error to `handleError`, which, for exactly
 * that message while the Cluster is `ready`, resends the command `retryDelayOnFailover` (100 ms)
 * later (`connectionClosed` → `tryConnection`) — applied or not. It rejects with the same
 * message, before writing anything, a command whose node connection is still connecting when the
 * Cluster's offline queue is off (our profile), and that retry is what sends it once the node is
 * ready: a cold Cluster's first commands depend on it, so it cannot be turned off.
 *
 * Here each node connection (the Cluster's `+node` event, emitted as the pool creates it,
 * before any command goes to it) flushes its two queues apart: not-yet-written commands with
 * ioredis' own error (retried, rerouted, as before), written ones with `ReplyLostError`, whose
 * message is not the one `handleError` retries, so the command is rejected at once, like a
 * single-node client's (`maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`).
 * The handle then repeats it only when it is a read or marked `safe`; a write is
 * `CONNECTION_LOST`. test/review-cluster-resend.test.ts proves both sides on a real Cluster.
 */
import type { Cluster, Redis } from 'ioredis';
import { errorChain } from '@steadyfn/handler/internal';

/** The message ioredis rejects commands with when their connection closed (`CONNECTION_CLOSED_ERROR_MSG`). */
export const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * A command written to a Cluster node connection (or a `redis()` client's connection, see
 * redis-replies.ts) that closed before its reply came: the server
 * may have applied it, so it is not sent again. Its message starts with ioredis' "Connection is
 * closed", so `isConnectionError` counts it (the client is repaired, a read repeated once);
 * `wasNotSent` does not. `cause`: ioredis' error.
 */
export class ReplyLostError extends Error {
  override readonly name = 'ReplyLostError';
  constructor(cause: Error) {
    super('Connection is closed after the command was written: its reply is lost and the server may have applied it, so it is not sent again', { cause });
  }
}

type FlushOptions = { offlineQueue?: boolean; commandQueue?: boolean };
type Flush = (this: Redis, error: Error, options?: FlushOptions) => void;
/** A node connection's written, unanswered commands (ioredis' `commandQueue`, a Denque). */
interface Written {
  length: number;
  peekAt(index: number): { command: { name: string } } | undefined;
}

/** Only `QUIT`s: a QUIT whose reply is lost did what it was for, and `Cluster#quit()` takes ioredis' own error as done. */
function onlyQuits(written: Written): boolean {
  for (let i = 0; i < written.length; i++) if (written.peekAt(i)?.command.name !== 'quit') return false;
  return true;
}

/**
 * Set when a node connection could not be split (an ioredis without `flushQueue`/`commandQueue`,
 * none known): from then on a written command may again reach ioredis' failover retry, so
 * "Cluster isn't ready" proves nothing in this process.
 */
let unsplit = false;

/** Makes `node` reject its written, unanswered commands with `ReplyLostError` when its connection closes. */
function splitFlush(node: Redis): void {
  const target = node as unknown as { flushQueue?: Flush; commandQueue?: Written };
  const flush = target.flushQueue;
  // An ioredis without these (none known) keeps its own behaviour.
  if (typeof flush !== 'function' || typeof target.commandQueue?.peekAt !== 'function') {
    unsplit = true;
    return;
  }
  target.flushQueue = function (this: Redis, error: Error, options?: FlushOptions): void {
    const written = (this as unknown as { commandQueue: Written }).commandQueue;
    if (error?.message !== CONNECTION_CLOSED || options?.commandQueue === false || written.length === 0 || onlyQuits(written)) return flush.call(this, error, options);
    // ioredis' order: the offline queue first, then the written commands.
    flush.call(this, error, { ...options, commandQueue: false });
    flush.call(this, new ReplyLostError(error), { ...options, offlineQueue: false, commandQueue: true });
  };
}

/**
 * Applies `splitFlush` to every node connection `cluster` creates. Call it right after
 * `new Cluster(…)` with `lazyConnect`, before `connect()`: the pool creates node connections then.
 */
export function failLostReplies(cluster: Cluster): void {
  cluster.on('+node', splitFlush);
}

/**
 * The messages ioredis rejects a Cluster command with where it would send it (`tryConnection`,
 * ioredis 5 and 6.0.0) and cannot: the Cluster is not ready (offline queue off), or it has ended
 * (`quit()` / `disconnect()`; "Cluster is ended.", raised nowhere else). `Cluster#sendCommand`
 * refuses a command sent to an ended Cluster before that, with "Connection is closed.", so "Cluster
 * is ended." only ends a retry — the same retries as "Cluster isn't ready".
 */
const NOT_SENDABLE = /^Cluster isn't ready|^Cluster is ended\./;

/**
 * ioredis' ending of a command that spent its `maxRedirections` (16) on tries none of which ran
 * it (`Cluster#handleError`: "Too many Cluster redirections. Last error: " + the last try's
 * error). Every earlier try's error was one ioredis tries again — MOVED / ASK / TRYAGAIN /
 * CLUSTERDOWN (answers of a node that did not run it) or "Connection is closed." while the
 * Cluster is ready — since any other error is given to the caller at once. The last one proves
 * the last try unsent only when it is one of those, "Cluster isn't ready" or "Cluster is ended."
 * — not `ReplyLostError` ("Connection is closed after the command was written", a written
 * command whose error came as the count ran out) nor any other reply. The usual case: a command
 * routed to a node connection still connecting is rejected "Connection is closed." before it is
 * written, and retried every `retryDelayOnFailover` (100 ms) until the count runs out — a
 * handshake slower than about 1.6 s. `redisCluster()` first holds such a command until the node
 * connection is ready (cluster-connecting.ts), so that now happens only past the node's
 * `connectTimeout`, or on a retry routed to a connecting node (test/review-cluster-slow-handshake.test.ts).
 */
const REDIRECTIONS_UNSENT = /^Too many Cluster redirections\. Last error: (?:\w*Error: )?(?:Connection is closed\.$|(?:MOVED|ASK) |TRYAGAIN|CLUSTERDOWN|Cluster isn't ready|Cluster is ended\.)/;

/**
 * Whether `err` proves a command of a Cluster made by `failLostReplies` was never written:
 * "Cluster isn't ready" or "Cluster is ended.". ioredis gives them only where it would send the
 * command (`tryConnection`) and finds the Cluster not ready with its offline queue off, or ended
 * — on a first try (not ready only), after MOVED / ASK / TRYAGAIN / CLUSTERDOWN (the node did not
 * run it), or on the failover retry of a command rejected with ioredis' "Connection is closed."
 * With every node connection split, that last error reaches only commands never written (a
 * written one gets `ReplyLostError`, which is not retried), so the command was not sent
 * (test/cluster-not-ready.test.ts, test/cluster-ended.test.ts).
 *
 * Also ioredis' bare "Connection is closed." and "Too many Cluster redirections" after tries that
 * were not sent (`REDIRECTIONS_UNSENT`). With every node connection split, ioredis (5, 6.0.0)
 * rejects a command with a bare "Connection is closed." only before writing it: a command whose
 * node connection is still connecting (`tryConnection`, offline queue off), a node connection's
 * offline queue flushed when it closes, a command sent to an ended Cluster or node connection —
 * and, the Cluster not ready, its failover retry hands the caller that error as it is
 * (test/review-cluster-slow-handshake.test.ts). Never when the chain holds a `ReplyLostError`
 * (whose cause is ioredis' own "Connection is closed."). False for anything else, and for every
 * error once a node connection could not be split.
 */
export function clusterNotReadyUnsent(err: unknown): boolean {
  if (unsplit) return false;
  const chain = [...errorChain(err)];
  if (chain.some((e) => e instanceof ReplyLostError)) return false;
  for (const e of chain) {
    if (typeof e.message !== 'string') continue;
    if (NOT_SENDABLE.test(e.message) || e.message === CONNECTION_CLOSED || REDIRECTIONS_UNSENT.test(e.message)) return true;
  }
  return false;
}
