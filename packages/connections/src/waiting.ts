/**
 * Commands in flight under one AbortSignal, for `handle.run`: each command's promise is
 * settled by the driver's answer, or rejected with the signal's reason as soon as the signal
 * aborts. The commands of one signal are kept in a linked list that the signal's one abort
 * callback walks: joining and leaving it is two pointer writes, where a set entry per command
 * (a closure, hashed on insertion) cost about 0.1–0.3 µs per command in the warm benches.
 */
import { abortCallbacks } from '@steadyfn/handler/internal';

/** A place in a signal's list of waiting commands (the list's head is one too). */
interface Link {
  prev: Link;
  next: Link;
}

/** One command racing a signal: in its signal's list from `waitFor` until `settle` or the abort. */
export class Waiter<R> implements Link {
  prev: Link = this;
  next: Link = this;
  readonly promise: Promise<R>;
  #resolve!: (value: R | PromiseLike<R>) => void;
  #reject!: (reason: unknown) => void;

  /**
   * @param onAbort - Called with `subject` when the signal aborts while this command waits
   *   (before its promise rejects): the connection it waits on is then suspect.
   * @param subject - What `onAbort` receives (the client the command was sent on).
   */
  constructor(
    private readonly onAbort: (subject: unknown) => void,
    private readonly subject: unknown,
  ) {
    this.promise = new Promise<R>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Leaves the list and settles the promise like `outcome`; a later abort no longer touches it. */
  settle(outcome: R | PromiseLike<R>): void {
    this.prev.next = this.next;
    this.next.prev = this.prev;
    this.prev = this.next = this;
    this.#resolve(outcome);
  }

  /** The signal aborted first: the connection is suspect, the promise rejects with the signal's reason. */
  abort(reason: unknown): void {
    this.prev = this.next = this;
    this.onAbort(this.subject);
    this.#reject(reason);
  }
}

// The list head of each signal that has had a command, under a private symbol (a property is
// cheaper than a WeakMap entry, and goes away with the signal).
const WAITING = Symbol('steadyfn.connections.waiting');
type Tagged = AbortSignal & { [WAITING]?: Link };

/**
 * Puts a new `Waiter` in `signal`'s list. The first command of a signal gives the signal one
 * abort callback (through `abortCallbacks`, the handler's shared registry) that aborts every
 * command still in the list, oldest first. Call it only while `signal` has not aborted.
 *
 * @param signal - The signal bounding the command (an invocation's `ctx.signal` or the caller's).
 * @param onAbort - See `Waiter`.
 * @param subject - See `Waiter`.
 */
export function waitFor<R>(signal: AbortSignal, onAbort: (subject: unknown) => void, subject: unknown): Waiter<R> {
  const tagged = signal as Tagged;
  let head = tagged[WAITING];
  if (head === undefined) {
    const list: Link = { prev: undefined!, next: undefined! };
    list.prev = list.next = list;
    head = tagged[WAITING] = list;
    abortCallbacks(signal).add(() => abortAll(list, signal.reason));
  }
  const waiter = new Waiter<R>(onAbort, subject);
  const last = head.prev;
  waiter.prev = last;
  waiter.next = head;
  last.next = waiter;
  head.prev = waiter;
  return waiter;
}

function abortAll(head: Link, reason: unknown): void {
  let link = head.next;
  head.prev = head.next = head;
  while (link !== head) {
    const next = link.next;
    (link as Waiter<unknown>).abort(reason);
    link = next;
  }
}
