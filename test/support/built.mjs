// The built package a user's `import` gets: the dist file `exports[subpath].import.default`
// names in packages/<pkg>/package.json, loaded the way Node resolves it. Child-process test
// workers use it to run the packages as published, not the sources.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages');

/** Imports `@steadyfn/<pkg>` (or its `subpath` entry) from its build; throws if the entry is not in dist/. */
export async function built(pkg, subpath = '.') {
  const manifest = JSON.parse(readFileSync(join(packages, pkg, 'package.json'), 'utf8'));
  const target = manifest.exports[subpath].import.default;
  if (!target.includes('dist/')) throw new Error(`${pkg} ${subpath} does not resolve to dist: ${target}`);
  return import(pathToFileURL(join(packages, pkg, target)).href);
}
