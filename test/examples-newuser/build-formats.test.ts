/**
 * The examples' READMEs say `npm run build -- --format=cjs` writes the CommonJS bundle
 * "instead" of the ESM one. A user who followed the Deploy section ran `npm run build` first, so
 * dist/ must then hold the CommonJS bundle and not the ESM one beside it: Lambda resolves a
 * handler `index.<name>` by trying index.js, index.mjs, then index.cjs, so a stale index.mjs
 * left in dist/ (the SAM templates' CodeUri) would be what runs; on Cloud Functions and Azure
 * it would be uploaded for nothing. Each example is installed as a user installs it (packed
 * tarballs, plain npm install, outside the workspace) and built with its own script.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installExample } from '../support/examples/install.js';

/** What dist/ holds after each build, per example. */
const EXPECTED: Record<string, { esm: string[]; cjs: string[] }> = {
  'aws-lambda': { esm: ['index.mjs'], cjs: ['index.cjs'] },
  glue: { esm: ['index.mjs'], cjs: ['index.cjs'] },
  'gcp-functions': { esm: ['index.mjs', 'package.json'], cjs: ['index.cjs', 'package.json'] },
  'azure-functions': { esm: ['host.json', 'index.mjs', 'package.json'], cjs: ['host.json', 'index.cjs', 'package.json'] },
};

describe.each(Object.keys(EXPECTED))('examples/%s', (name) => {
  it('npm run build, then npm run build -- --format=cjs: dist/ holds the CommonJS bundle instead of the ESM one', async () => {
    const example = await installExample(name);
    try {
      const dist = join(example.dir, 'dist');
      await example.npmRun('build');
      expect(readdirSync(dist).sort()).toEqual(EXPECTED[name]!.esm);
      await example.npmRun('build', ['--format=cjs']);
      expect(readdirSync(dist).sort()).toEqual(EXPECTED[name]!.cjs);
      await example.npmRun('build');
      expect(readdirSync(dist).sort()).toEqual(EXPECTED[name]!.esm);
    } finally {
      example.dispose(); // here, under the test's timeout: removing an installed example takes a while on a loaded machine
    }
  }, 600_000);
});
