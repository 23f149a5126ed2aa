/**
 * Polling for the tests of every package: wait until a condition holds, bounded. Never a
 * timing assertion — a condition that is not met within the limit fails the test.
 */

/**
 * Waits until `check` holds, polling every `everyMs`; throws when `limitMs` passes first.
 * `explain`, when given, is asked on a timeout what the test saw last, and its answer goes into
 * the error: a rare failure on a loaded CI machine then says what state it was in.
 */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  limitMs = 10_000,
  everyMs = 25,
  explain?: () => Promise<string> | string,
): Promise<void> {
  const until = Date.now() + limitMs;
  let checks = 0;
  while (Date.now() < until) {
    checks += 1;
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const seen = explain === undefined ? '' : `; last seen: ${await Promise.resolve().then(explain).catch((error: unknown) => `(explain failed: ${String(error)})`)}`;
  throw new Error(`condition not met within ${limitMs} ms (${checks} checks)${seen}`);
}

/** A promise and the function that resolves it: a gate a test opens when it chooses. */
export function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
