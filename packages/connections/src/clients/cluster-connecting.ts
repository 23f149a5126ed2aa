/**
 * A Cluster command routed to a master whose node connection is still connecting waits for that
 * connection instead of burning its redirections.
 *
 * ioredis (5, 6.0.0: `Cluster#sendCommand` → `tryConnection`), with the Cluster's offline queue
 * off (our profile), rejects such a command with "Connection is closed." before writing it; its
 * failover retry (`retryDelayOnFailover`, 100 ms) tries again, each try spending one of the
 * command's `maxRedirections` (16). A handshake slower than about 1.6 s then ended the command
 * with "Too many Cluster redirections" although the node would have served it a moment later
 * (test/review-cluster-slow-handshake.test.ts). No option fixes only that: the Cluster's
 * `enableOfflineQueue` also queues every command while the whole Cluster is down (the profile
 * wants those to fail at once), and more `maxRedirections` or a longer `retryDelayOnFailover`
 * stretch every other retry too.
 *
 * Here, before ioredis routes a command, the connection to the master of its slot is looked up;
 * when it is connecting, the command is handed to ioredis only once that connection is `ready`
 * (then written at once) or has closed (ioredis' routing as before). The wait is bounded:
 * - by the running invocation's `ctx.signal` (its deadline): the command is then rejected with
 *   the signal's reason, never sent — nobody waits for its reply any more;
 * - by the node connection's `connectTimeout` (ioredis option, profile 3 000 ms), counted from
 *   when the command began waiting: a handshake that hangs gets ioredis' own handling after it.
 *
 * Only the first routing of a command: a retry after MOVED / ASK / a failover that lands on a
 * connecting node connection is ioredis' as before. Reads with `scaleReads` other than `master`
 * may go to a replica: they are not held.
 */
import type { Cluster, Redis } from 'ioredis';
import { abortCallbacks, currentAbortable, type Abortable } from '@steadyfn/handler/internal';
import { READ_ONLY_COMMANDS } from '../view.js';

/** What is read of an ioredis `Command`. */
interface Command {
  name: string;
  isReadOnly?: boolean;
  getSlot(): number | null;
  reject(err: unknown): void;
  promise: Promise<unknown>;
}

type SendCommand = (this: Cluster, command: Command, stream?: unknown, node?: unknown) => Promise<unknown>;

/** ioredis' Cluster internals used here (ioredis 5 and 6). */
interface ClusterInternals {
  slots?: unknown;
  connectionPool?: { getInstanceByKey?: (key: string) => Redis | undefined };
  options: { scaleReads?: unknown };
}

/** Node connection statuses between `connect()` and `ready`: a command routed there is refused. */
const CONNECTING: ReadonlySet<string> = new Set(['connecting', 'connect', 'reconnecting']);

/** ioredis' default `connectTimeout` (ms), for a node connection whose options lack one. */
const IOREDIS_CONNECT_TIMEOUT_MS = 10_000;

/** The master connection `command` would be routed to, when it is connecting; else undefined. */
function connectingMaster(cluster: Cluster, command: Command): Redis | undefined {
  const internals = cluster as unknown as ClusterInternals;
  if (internals.options.scaleReads !== 'master' && (command.isReadOnly === true || READ_ONLY_COMMANDS.has(command.name))) return undefined;
  const slot = command.getSlot();
  const slots = internals.slots;
  if (typeof slot !== 'number' || !Array.isArray(slots)) return undefined;
  const key = (slots[slot] as unknown[] | undefined)?.[0];
  if (typeof key !== 'string') return undefined;
  const redis = internals.connectionPool?.getInstanceByKey?.(key);
  return redis !== undefined && CONNECTING.has(redis.status) ? redis : undefined;
}

/**
 * Per node connection, one promise settled when it is ready or has closed: its three listeners
 * are shared by every command waiting for it (one set per command would pass the emitter's
 * listener limit with 11 concurrent commands).
 */
const settling = new WeakMap<Redis, Promise<void>>();

function settled(redis: Redis): Promise<void> {
  let promise = settling.get(redis);
  if (promise === undefined) {
    promise = new Promise<void>((resolve) => {
      const done = (): void => {
        redis.off('ready', done);
        redis.off('close', done);
        redis.off('end', done);
        settling.delete(redis);
        resolve();
      };
      redis.on('ready', done);
      redis.on('close', done);
      redis.on('end', done);
    });
    settling.set(redis, promise);
  }
  return promise;
}

/** The error a command dropped unsent by an aborted `signal` is rejected with: its reason. */
function reasonOf(signal: Abortable): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted before the command was sent');
}

/**
 * Hands `command` to `send` once `redis` is ready or has closed, or after its `connectTimeout`;
 * rejects it, unsent, when `signal` aborts first. The abort is watched through the signal's
 * callbacks (no AbortSignal listener per command).
 */
function sendWhenSettled(redis: Redis, signal: Abortable | undefined, send: () => void, command: Command): void {
  let waiting = true;
  const callbacks = signal && abortCallbacks(signal);
  const finish = (then: () => void): void => {
    if (!waiting) return;
    waiting = false;
    clearTimeout(timer);
    callbacks?.delete(abort);
    then();
  };
  const go = (): void => finish(send);
  const abort = (): void => finish(() => command.reject(reasonOf(signal!)));
  const timer = setTimeout(go, redis.options.connectTimeout ?? IOREDIS_CONNECT_TIMEOUT_MS);
  callbacks?.add(abort);
  void settled(redis).then(go);
}

/**
 * Makes `cluster` hold a command routed to a connecting master connection until it is ready (see
 * the module comment). Call it right after `new Cluster(…)`. A Cluster without the internals
 * used (none known) is left as it is.
 */
export function waitForConnectingMasters(cluster: Cluster): void {
  const target = cluster as unknown as { sendCommand: SendCommand } & ClusterInternals;
  const send = target.sendCommand;
  if (typeof send !== 'function' || typeof target.connectionPool?.getInstanceByKey !== 'function') return;
  target.sendCommand = function (this: Cluster, command, stream, node) {
    // A pipeline's commands (`node`) and a stream's are routed by their caller.
    const redis = stream === undefined && node === undefined && this.status === 'ready' ? connectingMaster(this, command) : undefined;
    if (redis === undefined) return send.call(this, command, stream, node);
    const abortable = currentAbortable();
    if (abortable?.aborted) command.reject(reasonOf(abortable));
    else sendWhenSettled(redis, abortable, () => void send.call(this, command, stream, node), command);
    return command.promise;
  };
}
