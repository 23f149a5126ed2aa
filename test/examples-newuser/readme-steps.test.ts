/**
 * The steps the READMEs tell a new user to take, read from the README files at test time:
 * what a user copies must work in the order it is written.
 *
 * - The root README's quick start: the `npm install` it gives before its first sample installs
 *   every package that sample imports, and the text names every environment variable the
 *   sample reads (`process.env.X`, and `envVars({ prefix })` + the keys its schema requires).
 *   A user who runs the command and copies the sample otherwise meets "Cannot find module" or
 *   a `STATE_INVALID` at the first invocation.
 * - Each example README: once it has run `npm install --omit=dev` (which removes the
 *   devDependencies, esbuild among them), a later `npm run build` needs an `npm install` with
 *   the devDependencies first, or the build fails with ERR_MODULE_NOT_FOUND.
 *
 * The examples themselves run on their providers' local runtimes in test/examples/; this file
 * checks the prose around them, which those tests do not read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../support/consumer.js';

const rootReadme = readFileSync(join(root, 'README.md'), 'utf8');

/** The package an import specifier installs (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`). */
const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** Packages named by `npm install …` commands in a piece of text (backticked or in a sh block). */
function installed(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, args] of text.matchAll(/npm (?:install|i) ([^`\n]+)/g)) {
    for (const arg of args!.split(/\s+/)) {
      if (!arg || arg.startsWith('-')) continue;
      const at = arg.indexOf('@', 1); // a version or range after the name: zod@4, @scope/name@^1
      names.add(packageOf(at === -1 ? arg : arg.slice(0, at)));
    }
  }
  return names;
}

describe('root README quick start', () => {
  const start = rootReadme.indexOf('```ts\n');
  const code = rootReadme.slice(start + 6, rootReadme.indexOf('\n```', start + 6));
  const before = rootReadme.slice(0, start);
  const prose = rootReadme.slice(0, rootReadme.indexOf('\n## ', start));

  it('installs every package the first sample imports', () => {
    const imports = [...code.matchAll(/from '([^'.][^']*)'/g)].map(([, s]) => packageOf(s!)).filter((p) => !p.startsWith('node:'));
    expect(imports.length).toBeGreaterThan(0);
    const missing = imports.filter((p) => !installed(before).has(p));
    expect(missing, `the npm install before the sample lacks ${missing.join(', ')}`).toEqual([]);
  });

  it('names every environment variable the sample reads', () => {
    const vars = [...code.matchAll(/process\.env\.([A-Z0-9_]+)/g)].map(([, v]) => v!);
    for (const [, prefix] of code.matchAll(/envVars\(\{\s*prefix:\s*'([^']+)'/g)) {
      const schema = /env:\s*z\.object\(\{([^}]*)\}/.exec(code)?.[1] ?? '';
      for (const [, key] of schema.matchAll(/([A-Z0-9_]+):\s*z\./g)) if (!/\.optional\(\)|\.default\(/.test(schema)) vars.push(`${prefix}${key}`);
    }
    expect(vars.length).toBeGreaterThan(0);
    const unnamed = vars.filter((v) => !new RegExp(`\\b${v}\\b`).test(prose.replace(code, '')));
    expect(unnamed, `the quick start text does not name ${unnamed.join(', ')}`).toEqual([]);
  });
});

describe('example READMEs', () => {
  const examples = readdirSync(join(root, 'examples')).filter((name) => existsSync(join(root, 'examples', name, 'README.md')));

  it.each(examples)('%s: no npm run build after npm install --omit=dev without installing esbuild again', (name) => {
    const readme = readFileSync(join(root, 'examples', name, 'README.md'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(root, 'examples', name, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    const steps = [...readme.matchAll(/npm install( --omit=dev)?|npm run build/g)].map((m) => m[0]);
    let pruned = false;
    for (const step of steps) {
      if (step === 'npm install --omit=dev') pruned = true;
      else if (step === 'npm install') pruned = false;
      else expect(pruned && manifest.devDependencies?.esbuild !== undefined, `examples/${name}/README.md runs npm run build after npm install --omit=dev removed esbuild`).toBe(false);
    }
  });
});
