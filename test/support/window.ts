/**
 * Time windows for tests that assert something has NOT happened yet — a record still inside its
 * TTL, a lease still held — without a margin that a loaded CI machine can eat. The window (the
 * TTL, the lease) is the scenario's parameter: an assertion that fails after its window had
 * provably passed (the step ended later than `since + ms`) says nothing about the product, so
 * the scenario is run again with the next, longer window; one that fails inside its window is a
 * real failure. Waiting for a window to end is exact (`sleepUntil` its known end), not a guess.
 */

/** Thrown by `Window.holds` when a failed assertion's step ended after the window: not a verdict. */
class TooLate extends Error {}

/** One attempt's window: its length and the check of an assertion that needs it. */
export interface Window {
  /** The window, ms: the TTL or lease the scenario gives the product. */
  readonly ms: number;
  /**
   * Runs `assertion` on a step's result. When it throws and more than `windowMs` (default `ms`)
   * had passed since `since` (epoch ms, taken before the step that started the window) when the
   * step needing the window ended (`endedAt`, default now), the step may have run past the
   * window: the attempt ends and the scenario is run again with a longer window. When it throws
   * inside the window, that failure is the test's.
   */
  holds(since: number, assertion: () => void, options?: { windowMs?: number; endedAt?: number }): void;
}

/**
 * Runs `scenario` with each window of `windowsMs` in turn until an attempt ends without a
 * too-late failure (see `Window.holds`); any other failure ends the test at once. Fails when the
 * machine was too slow for every window — never a silent pass.
 */
export async function inWindow(windowsMs: readonly number[], scenario: (window: Window) => Promise<void>): Promise<void> {
  const late: string[] = [];
  for (const ms of windowsMs) {
    const window: Window = {
      ms,
      holds(since, assertion, options = {}) {
        try {
          assertion();
        } catch (error) {
          const elapsed = (options.endedAt ?? Date.now()) - since;
          const windowMs = options.windowMs ?? ms;
          if (elapsed <= windowMs) throw error;
          throw new TooLate(`${elapsed} ms > ${windowMs} ms: ${(error as Error).message.split('\n')[0]}`);
        }
      },
    };
    try {
      await scenario(window);
      return;
    } catch (error) {
      if (!(error instanceof TooLate)) throw error;
      late.push(error.message);
    }
  }
  throw new Error(`too slow for every window (${windowsMs.join(', ')} ms): ${late.join('; ')}`);
}

/** Waits until `Date.now()` has passed `at` (epoch ms); at once when it has. */
export async function sleepUntil(at: number): Promise<void> {
  while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, Math.max(1, at - Date.now() + 1)));
}
