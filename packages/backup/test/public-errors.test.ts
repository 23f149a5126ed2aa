/**
 * fxb item 4: the package entry re-exported all of errors.ts (`export *`), so its internal
 * helpers — how driver and SDK errors become typed ones — were public API nobody documented.
 * The entry exports the typed errors by name: every class of the README's error table (each a
 * `BackupError` with its documented code), `BackupError` and `ConfigurationError`; none of the
 * helpers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

const INTERNAL = ['describeError', 'withStorageErrors', 'storageErrorOf', 'sourceErrorOf', 'targetErrorOf', 'targetUnreachable', 'beforeWriting'];

/** `[class, first code]` of each row of the README's `### Errors` table. */
function errorTable(): Array<[string, string]> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Errors'), readme.indexOf('\n## ', readme.indexOf('### Errors')));
  return [...section.matchAll(/^\| `(\w+)` \| `(\w+)`/gm)].map((m) => [m[1]!, m[2]!]);
}

describe('the public errors of @steadyfn/backup', () => {
  it('exports none of errors.ts\'s internal helpers', () => {
    for (const name of INTERNAL) expect(Object.keys(api), name).not.toContain(name);
  });

  it('exports every class of the README error table, each a BackupError', () => {
    const rows = errorTable();
    expect(rows.length).toBeGreaterThan(25);
    for (const [name] of rows) {
      const Class = (api as Record<string, unknown>)[name];
      expect(typeof Class, name).toBe('function');
      expect((Class as { prototype: unknown }).prototype, name).toBeInstanceOf(api.BackupError);
    }
    expect(typeof api.ConfigurationError).toBe('function');
  });
});
