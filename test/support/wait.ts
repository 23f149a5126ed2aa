/**
 * Polling for the tests of every package: wait until a condition holds, bounded. Never a
 * timing assertion — a condition that is not met within the limit fails the test.
 */

/** Waits until `check` holds, polling every `everyMs`; throws when `limitMs` passes first. */
export async function eventually(check: () => Promise<boolean> | boolean, limitMs = 10_000, everyMs = 25): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

/** A promise and the function that resolves it: a gate a test opens when it chooses. */
export function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
