/** Assertions on the `ConfigurationError` a factory throws for an option it refuses. */
import { expect } from 'vitest';

/**
 * Calls `make`, which must throw a `ConfigurationError` (`CONFIG_INVALID`) for option `field`
 * of `owner()` whose message contains each of `mentions`.
 */
export function expectOptionRefused(make: () => unknown, owner: string, field: string, mentions: string[] = []): void {
  let thrown: unknown;
  try {
    make();
  } catch (e) {
    thrown = e;
  }
  // By name: this file sits outside the packages, where `@steadyfn/handler` does not resolve.
  expect(thrown).toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field, retryable: false });
  expect((thrown as Error).message).toContain(`${owner}(): option "${field}"`);
  for (const text of mentions) expect((thrown as Error).message).toContain(text);
}

/**
 * Awaits `call`, which must reject with a `ConfigurationError` (`CONFIG_INVALID`) for option
 * `field` of `owner()` whose message contains each of `mentions`: an option checked at use (a
 * getter's result) rather than when the store is made.
 */
export async function expectOptionRejected(call: () => Promise<unknown>, owner: string, field: string, mentions: string[] = []): Promise<void> {
  const thrown = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown).toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field, retryable: false });
  expect((thrown as Error).message).toContain(`${owner}(): option "${field}"`);
  for (const text of mentions) expect((thrown as Error).message).toContain(text);
}
