/**
 * Event parsers are pure functions of a provider's event: they may use src/internal and each
 * other, never a provider adapter (providers depend on events, not the other way round).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const IMPORT = /\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier `file` imports. */
function imports(file: string): string[] {
  const text = readFileSync(join(here, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2]!);
}

describe('src/events layering', () => {
  const modules = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it('finds the parsers it checks', () => {
    expect(modules).toContain('event-hubs.ts');
    expect(modules.length).toBeGreaterThan(10);
  });

  it.each(modules)('%s imports no provider adapter', (file) => {
    expect(imports(file).filter((spec) => spec.includes('/providers/') || spec.startsWith('../providers'))).toEqual([]);
  });
});
