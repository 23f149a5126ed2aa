/**
 * What users install: every package's build must load through `import` and `require`,
 * ship types for both, and expose the same names either way. Runs on the built dist/,
 * resolved by package name as a consumer would (no source aliases).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(`${root}packages`).filter((d) => existsSync(`${root}packages/${d}/package.json`));

interface Manifest {
  name: string;
  sideEffects?: boolean;
  engines?: { node?: string };
  exports: Record<string, unknown>;
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  files?: string[];
}

describe.each(packages)('package %s', (dir) => {
  const pkgDir = `${root}packages/${dir}`;
  const manifest = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as Manifest;
  const entry = manifest.exports['.'] as { import: { types: string; default: string }; require: { types: string; default: string } };

  it('declares a consumer-ready manifest', () => {
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.engines?.node).toBe('>=22');
    expect(manifest.files).toContain('dist');
    for (const sdk of ['ioredis', 'mongodb', '@aws-sdk/client-s3', '@aws-sdk/client-sqs']) {
      expect(manifest.dependencies?.[sdk], `${sdk} must be a peer dependency`).toBeUndefined();
    }
    expect(existsSync(`${pkgDir}/README.md`)).toBe(true);
  });

  it('builds ESM, CJS and types for both', () => {
    for (const file of [entry.import.default, entry.import.types, entry.require.default, entry.require.types]) {
      expect(existsSync(`${pkgDir}/${file}`), `${manifest.name}: ${file} (run \`npm run build\`)`).toBe(true);
    }
  });

  it('loads by name through import and require with the same exports', () => {
    // A separate Node process resolves the package the way a user's code does.
    const script = `
      const { createRequire } = require('node:module');
      const req = createRequire(${JSON.stringify(`${pkgDir}/package.json`)});
      const cjs = req(${JSON.stringify(manifest.name)});
      import(req.resolve(${JSON.stringify(manifest.name)}).replace(/\\.cjs$/, '.js')).then((esm) => {
        console.log(JSON.stringify({ cjs: Object.keys(cjs).sort(), esm: Object.keys(esm).sort() }));
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: pkgDir, encoding: 'utf8' })) as { cjs: string[]; esm: string[] };
    expect(out.cjs.length).toBeGreaterThan(0);
    expect(out.esm).toEqual(out.cjs);
  });
});

// A user of one store must not need another store's driver types (with skipLibCheck: false).
// @steadyfn/connections is left out: handing out typed driver clients is its purpose.
describe.each(packages.filter((dir) => dir !== 'connections'))('package %s types', (dir) => {
  it('import no optional driver', () => {
    const pkgDir = `${root}packages/${dir}`;
    const manifest = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as Manifest & { peerDependenciesMeta?: Record<string, unknown> };
    const types = (manifest.exports['.'] as { import: { types: string } }).import.types;
    const declarations = readFileSync(`${pkgDir}/${types}`, 'utf8');
    for (const driver of Object.keys(manifest.peerDependenciesMeta ?? {})) {
      expect(declarations, `${manifest.name} types import ${driver}`).not.toMatch(new RegExp(`from ['"]${driver.replace('/', '\\/')}['"]`));
    }
  });
});
