/**
 * Whether a cached client must be checked (pinged) before its next use: after a connection error
 * or a call cut off by a deadline. A suspicion is unconditional, or holds only while one of its
 * tests says what was in flight at a cut-off is still unanswered (a shared Redis connection
 * behind another caller's BLPOP).
 */
export class Suspicion {
  /** Set by `raise`, cleared by `clear` (a connect, a passed check, `close()`) or when every test says the client moved on. */
  raised = false;
  /** While raised, the tests that may still clear it without a ping; undefined when it is unconditional. */
  #unless: (() => boolean)[] | undefined;

  /** Raises it: with `stillStuck`, only as long as it (or another test added) says so; an unconditional suspicion stays one. */
  raise(stillStuck?: () => boolean): void {
    if (stillStuck === undefined) this.#unless = undefined;
    else if (!this.raised) this.#unless = [stillStuck];
    else this.#unless?.push(stillStuck);
    this.raised = true;
  }

  /** Whether it still holds: a conditional one whose tests all say the client moved on is cleared here. */
  holds(): boolean {
    if (!this.raised) return false;
    const tests = this.#unless;
    if (tests === undefined || tests.some((test) => test())) return true;
    this.clear();
    return false;
  }

  clear(): void {
    this.raised = false;
    this.#unless = undefined;
  }
}
