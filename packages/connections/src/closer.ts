/**
 * Closing a lifecycle's clients in the background, bounded by `closeTimeoutMs`, and remembering
 * which clients were closed here (a rebuild, `close()`) rather than by the function.
 */
import { withTimeout } from '@steadyfn/handler/internal';

class CloseTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** The clients one lifecycle closes: each closed in the background, each close awaited by `settled()`. */
export class Closer<T> {
  readonly #closing = new Set<Promise<unknown>>();
  /** Clients closed (or being closed) here: not the function's doing. */
  readonly #closedHere = new WeakSet<object>();

  /**
   * @param closeFn - The spec's `close`; without it nothing is closed.
   * @param name - The handle's name, for the timeout's message.
   * @param closeTimeoutMs - How long (ms) a close may take before it is given up.
   */
  constructor(
    private readonly closeFn: ((client: T) => unknown) | undefined,
    private readonly name: string,
    private readonly closeTimeoutMs: number,
  ) {}

  /** Whether `client` was closed here (a rebuild, `close()`), as opposed to by its user. */
  closedHere(client: T): boolean {
    return typeof client === 'object' && client !== null && this.#closedHere.has(client);
  }

  /**
   * Closes `client` in the background, bounded by `closeTimeoutMs`; its failure is swallowed.
   * The bound's timer is unref'd: a close nothing awaits (the old client of a rebuild) does not
   * keep an otherwise idle process open; `settled()` holds it while a close is awaited.
   */
  readonly close = (client: T): void => {
    const closeFn = this.closeFn;
    if (!closeFn) return;
    if (typeof client === 'object' && client !== null) this.#closedHere.add(client);
    const closed = withTimeout(
      Promise.resolve().then(() => closeFn(client)),
      this.closeTimeoutMs,
      () => new CloseTimeoutError(`closing ${this.name} timed out`),
      undefined,
      { unref: true },
    ).catch(() => undefined);
    this.#closing.add(closed);
    void closed.then(() => this.#closing.delete(closed));
  };

  /**
   * Settles once every close begun so far has ended (or timed out). While awaited it keeps the
   * process open (a ref'd bound of `closeTimeoutMs`, which every close begun so far ends within),
   * so a close that holds no socket or timer of its own still reaches its bound.
   */
  async settled(): Promise<void> {
    if (this.#closing.size === 0) return;
    await withTimeout(Promise.all([...this.#closing]), this.closeTimeoutMs, () => new CloseTimeoutError(`closing ${this.name} timed out`)).catch(() => undefined);
  }
}
