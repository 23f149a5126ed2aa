/**
 * What an ioredis client's command queue says about its socket. One client is shared by every
 * caller of a handle, so a command in flight may be another caller's healthy blocking read
 * (BLPOP, XREAD BLOCK, WAIT): it is no sign of a dead socket, and a PING sent on the same
 * connection waits behind it. Replies arrive in order, so a command still at the head of the
 * queue means no reply arrived since it became the head.
 */
import { exists, hasFlag } from '@ioredis/commands';
import type { Cluster, Redis } from 'ioredis';

/** One entry of ioredis' `commandQueue` (commands written, reply awaited), as read here. */
interface QueuedCommand {
  command?: { name?: unknown; args?: unknown };
}
interface CommandQueue {
  length: number;
  peekFront(): QueuedCommand | undefined;
  /** Denque's: the entry at `index` from the front. */
  peekAt?(index: number): QueuedCommand | undefined;
  /** Denque's: the entry last written. */
  peekBack?(): QueuedCommand | undefined;
}

/**
 * When each blocking command was written to its socket, by ioredis' command object: `now()` ms.
 * On the monotonic clock the thaw check's account runs on (unanswered.ts, grace clock `elapsed`):
 * a wall-clock step (NTP, a VM resumed) cannot move it. A step forward made a healthy BLPOP
 * overdue at once — its client pinged with no grace, a needless rebuild; a step back kept one
 * left unanswered by a dead socket unsuspected for as long. A blocking command's timeout runs on
 * the server whether or not the instance is frozen, and so does this clock.
 */
const writtenAt = new WeakMap<object, number>();

/** The clock of `writtenAt` and of every reading of it here (monotonic ms). */
const now = (): number => performance.now();

/**
 * Makes `client` note when it writes each blocking command (see `blockedForMs`): its
 * `sendCommand` (every command, and each one of the offline queue when it is finally written,
 * goes through it) is wrapped, and a blocking command it has just put in the command queue is
 * written now. Call it right after `new Redis(…)` (or on a Cluster's `+node`).
 */
export function noteBlockingWrites(client: Redis): void {
  const target = client as unknown as { sendCommand?: (command: unknown, stream?: unknown) => unknown };
  const send = target.sendCommand;
  if (typeof send !== 'function') return;
  // Every command passes here: its two parameters passed on as they are (ioredis' `sendCommand(command,
  // stream?)`; no `arguments` object, no apply), and the queue is read only for a command whose name
  // may block (one Map lookup for the others: see `mayBlock`).
  target.sendCommand = function (this: Redis, command: unknown, stream?: unknown): unknown {
    const result = send.call(this, command, stream);
    if (typeof command === 'object' && command !== null && mayBlock((command as { name?: unknown }).name)) {
      const last = queueOf(this)?.peekBack?.();
      if (last?.command === command && isBlocking(last)) writtenAt.set(command, now());
    }
    return result;
  };
}

/**
 * Blocking whatever the command table says: `@ioredis/commands` 1.x (the range allows it, and
 * ioredis 5 brings it) has no `waitaof` and does not flag `wait` blocking.
 */
const ALWAYS_BLOCKING: ReadonlySet<string> = new Set(['wait', 'waitaof']);

/** Blocking only with a `BLOCK ms` argument (the command table flags them blocking regardless). */
const BLOCK_OPTION: ReadonlySet<string> = new Set(['xread', 'xreadgroup']);

function queueOf(client: Redis): CommandQueue | undefined {
  const queue = (client as unknown as { commandQueue?: Partial<CommandQueue> }).commandQueue;
  return typeof queue?.length === 'number' && typeof queue.peekFront === 'function' ? (queue as CommandQueue) : undefined;
}

/** `mayBlock`'s answers by command name as written (ioredis' are lower case; `call('BLPOP')` keeps its own). */
const mayBlockByName = new Map<string, boolean>();
/** Names kept in `mayBlockByName` at most: command names come from code, so few; a bound all the same. */
const MAY_BLOCK_NAMES_MAX = 1_024;

/**
 * Whether a command of this name may block (see `isBlocking`; XREAD/XREADGROUP: only with `BLOCK`,
 * which this does not look at). Read for every command written: after a name's first time, one Map lookup.
 */
function mayBlock(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  let known = mayBlockByName.get(name);
  if (known === undefined) {
    const lower = name.toLowerCase();
    known = ALWAYS_BLOCKING.has(lower) || (exists(lower) && hasFlag(lower, 'blocking'));
    if (mayBlockByName.size < MAY_BLOCK_NAMES_MAX) mayBlockByName.set(name, known);
  }
  return known;
}

/**
 * Whether a queued command may legitimately wait for long for its reply: flagged `blocking` in the
 * Redis command table (`@ioredis/commands`, the list ioredis itself is built from: BLPOP, BRPOP,
 * BLMOVE, BZPOPMIN, BZMPOP, …), WAIT and WAITAOF (whichever version of that table is installed),
 * and for XREAD/XREADGROUP only with a `BLOCK` argument.
 */
export function isBlocking(item: QueuedCommand | undefined): boolean {
  const command = item?.command;
  if (typeof command?.name !== 'string' || !mayBlock(command.name)) return false;
  const name = command.name.toLowerCase();
  if (!BLOCK_OPTION.has(name)) return true;
  const args = Array.isArray(command.args) ? (command.args as unknown[]) : [];
  return args.some((arg) => String(arg).toLowerCase() === 'block');
}

/**
 * How long (ms) past its own timeout a blocking command at the head of the queue may still go
 * unanswered on a live connection: the server checks blocked clients' timeouts in its cron (10
 * times a second at the default `hz`), and the reply still has to cross the network.
 */
export const BLOCKING_REPLY_MARGIN_MS = 1_000;

/**
 * At a cut-off (a watched signal aborted, an invocation's deadline): false when nothing written
 * can be hung on a dead socket — nothing in flight, or the oldest command in flight is a blocking
 * one that may block for ever (timeout 0, or one that cannot be read): anything after it waits
 * for it anyway, so silence says nothing — else a test for the next use: whether that same
 * command is still unanswered, with no reply since. A blocking command with a timeout counts only
 * once that timeout (from when it was written, see `noteBlockingWrites`) plus
 * `BLOCKING_REPLY_MARGIN_MS` has passed: by then a live server has answered it (before, a BLPOP
 * left unanswered long past its timeout by a dead socket was never suspected). Another shape of
 * client (not ioredis' queue): always suspect, as before.
 */
export function stuckAtCutOff(client: Redis): false | (() => boolean) {
  const queue = queueOf(client);
  if (queue === undefined) return () => true;
  const head = queue.peekFront();
  if (head === undefined) return false;
  if (!isBlocking(head)) return () => queue.peekFront() === head;
  const bound = blockingBoundMs(head);
  if (bound === undefined) return false;
  const overdueAt = (writtenAt.get(head.command!) ?? now()) + bound + BLOCKING_REPLY_MARGIN_MS;
  return () => queue.peekFront() === head && now() >= overdueAt;
}

/**
 * `stuckAtCutOff` for a Cluster: each node connection (masters and replicas) has its own queue,
 * read as `redis()` reads its one. False when none can be hung on a dead socket, else a test for
 * the next use: whether any of them still is.
 */
export function clusterStuckAtCutOff(cluster: Cluster): false | (() => boolean) {
  const tests: (() => boolean)[] = [];
  for (const node of cluster.nodes()) {
    const test = stuckAtCutOff(node);
    if (test !== false) tests.push(test);
  }
  return tests.length === 0 ? false : () => tests.some((test) => test());
}

/** Blocking commands whose timeout (seconds) is their last argument. */
const TIMEOUT_LAST_S: ReadonlySet<string> = new Set(['blpop', 'brpop', 'bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove']);
/** Blocking commands whose timeout (seconds) is their first argument. */
const TIMEOUT_FIRST_S: ReadonlySet<string> = new Set(['blmpop', 'bzmpop']);
/** Blocking commands whose timeout (milliseconds) is their last argument. */
const TIMEOUT_LAST_MS: ReadonlySet<string> = new Set(['wait', 'waitaof']);

/**
 * The longest a blocking command may wait before the server answers it, in ms: its own timeout
 * argument. Undefined when it may wait for ever (a timeout of 0) or the timeout cannot be read.
 */
function blockingBoundMs(item: QueuedCommand): number | undefined {
  const command = item.command!;
  const name = String(command.name).toLowerCase();
  const args = Array.isArray(command.args) ? (command.args as unknown[]) : [];
  let value: number;
  if (TIMEOUT_LAST_S.has(name)) value = Number(String(args.at(-1))) * 1_000;
  else if (TIMEOUT_FIRST_S.has(name)) value = Number(String(args[0])) * 1_000;
  else if (TIMEOUT_LAST_MS.has(name)) value = Number(String(args.at(-1)));
  else if (BLOCK_OPTION.has(name)) value = Number(String(args[args.findIndex((arg) => String(arg).toLowerCase() === 'block') + 1]));
  else return undefined;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * How much longer than usual a PING written at `at` may take to be answered on `client`'s
 * connection, in ms: replies come in order, so it waits for every blocking command queued before
 * it (another caller's BLPOP). The server runs a connection's commands one after the other, so
 * each one blocks at most its own timeout from when it was written (`noteBlockingWrites`) or
 * the previous one ended, whichever is later; what is left of that at `at`. A BLPOP written long
 * ago whose timeout has passed gives nothing: a socket that still has not answered it is dead.
 * A blocking command whose write time was not noted counts from `at` (its whole timeout). 0
 * when none is queued — and when one may block for ever (timeout 0) or its timeout cannot be
 * read: no bound can be given, so the check fails after `pingTimeoutMs` as before.
 *
 * @param at - The time the PING is written, on the monotonic clock of `noteBlockingWrites` (ms).
 * @default at performance.now()
 */
export function blockedForMs(client: Redis, at: number = now()): number {
  const queue = queueOf(client);
  if (queue === undefined || typeof queue.peekAt !== 'function') return 0;
  // Relative to `at`: monotonic readings are fractional, and a sum of absolute ones minus `at` is not exact.
  let end = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < queue.length; i++) {
    const item = queue.peekAt(i);
    if (!isBlocking(item)) continue;
    const bound = blockingBoundMs(item!);
    if (bound === undefined) return 0;
    const written = writtenAt.get(item!.command!);
    end = Math.max(end, written === undefined ? 0 : written - at) + bound;
  }
  return Math.max(0, end);
}

/**
 * The node connections a Cluster's thaw check pings: the masters, and every other one that is
 * connected (a replica that `scaleReads` reads from): any of their sockets may be the dead one.
 * A replica never connected is left alone (a ping would open it).
 */
export function pingedNodes(cluster: Cluster): Redis[] {
  const masters = new Set(cluster.nodes('master'));
  return cluster.nodes().filter((node) => masters.has(node) || node.status === 'ready');
}

/** `blockedForMs` of a Cluster's ping (every node of `pingedNodes` pinged at once): the longest of theirs. */
export function clusterBlockedForMs(cluster: Cluster): number {
  const at = now();
  let most = 0;
  for (const node of pingedNodes(cluster)) most = Math.max(most, blockedForMs(node, at));
  return most;
}
