/**
 * Shared by the secret-redaction suites: asserts that a secret appears in no error reachable
 * from a thrown error — through `cause` and ioredis Cluster's `lastNodeError` — whether printed
 * with `inspect`, serialised as JSON, or carried in a failed command's `args`.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';

/** Every error reachable from `err` through `cause` and `lastNodeError` (at most 10). */
export function errorChain(err: unknown): object[] {
  const seen: object[] = [];
  for (let at = err; typeof at === 'object' && at !== null && !seen.includes(at) && seen.length < 10; ) {
    seen.push(at);
    const next = at as { cause?: unknown; lastNodeError?: unknown };
    if (typeof next.lastNodeError === 'object' && next.lastNodeError !== null && !seen.includes(next.lastNodeError)) seen.push(next.lastNodeError);
    at = next.cause ?? next.lastNodeError;
  }
  return seen;
}

/** Fails when `secret` is in `error` printed in full, or in any error of its chain (message, inspect, JSON, command args). */
export function expectSecretNowhere(error: unknown, secret: string): void {
  expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(secret);
  for (const e of errorChain(error)) {
    expect(String((e as Error).message)).not.toContain(secret);
    expect(inspect(e, { depth: 10, showHidden: true })).not.toContain(secret);
    expect(JSON.stringify(e)).not.toContain(secret);
    const args = (e as { command?: { args?: unknown } }).command?.args;
    if (args !== undefined) expect(JSON.stringify(args)).not.toContain(secret);
  }
}
