/**
 * Review: `key: null`, `scope: null` and `cacheErrors: null` were read as "use the default"
 * (`??`) while every other option refuses `null` (`onConcurrent`, `leaseMs`, `namespace`,
 * `localCache`). `scope: null` reads as "no scope" and got per-caller scoping; `key: null` as
 * "no key" and got 'auto'. They are refused now, with messages that name the function form too;
 * a blank `namespace` (whitespace only) is refused like an empty one, and so is a padded one
 * (`' orders'`: another scope than the `'orders'` other deployments name).
 */
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore } from '../src/index.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';

const make = (extra: Record<string, unknown>) => () => idempotency({ store: memoryStore(), ttlMs: 60_000, ...extra });

describe('review: null and blank options are refused up front', () => {
  it('key: null or a value that is neither a source name nor a function', () => {
    expectOptionRefused(make({ key: null }), 'idempotency', 'key', ['"auto", "header", "input" or a function', 'got null']);
    expectOptionRefused(make({ key: 'body' }), 'idempotency', 'key', ['or a function', 'got "body"']);
  });

  it('scope: null or an unknown name', () => {
    expectOptionRefused(make({ scope: null }), 'idempotency', 'scope', ['"principal", "none" or a function', 'got null']);
    expectOptionRefused(make({ scope: 'caller' }), 'idempotency', 'scope', ['or a function', 'got "caller"']);
  });

  it('cacheErrors: null', () => {
    expectOptionRefused(make({ cacheErrors: null }), 'idempotency', 'cacheErrors', ['a boolean or (error) => boolean', 'got null']);
  });

  it('namespace: whitespace only', () => {
    expectOptionRefused(make({ namespace: '  ' }), 'idempotency', 'namespace', ['non-blank']);
    // Padded (a template or .env line): another scope than the 'orders' other deployments name.
    for (const padded of [' orders', 'orders ', '\torders\n']) expectOptionRefused(make({ namespace: padded }), 'idempotency', 'namespace', ['without leading or trailing whitespace']);
    // The defaults (left out or undefined) and the documented forms are still taken.
    for (const extra of [{}, { key: undefined, scope: undefined, cacheErrors: undefined, namespace: undefined }, { key: () => 'k', scope: () => 't' }, { key: 'input', scope: 'none', cacheErrors: true, namespace: 'orders' }]) {
      expect(() => make(extra)()).not.toThrow();
    }
  });
});
