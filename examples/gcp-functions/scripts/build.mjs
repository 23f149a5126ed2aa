// Bundles the functions for deployment: `npm run build` (ESM) or `npm run build -- --format=cjs`.
// dist/ then holds the bundle and a package.json naming only the Functions Framework, which
// stays out of the bundle (functions register with the instance the platform serves them
// from): deploy with `gcloud functions deploy … --source=dist`.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const format = process.argv.includes('--format=cjs') ? 'cjs' : 'esm';
const main = format === 'esm' ? 'index.mjs' : 'index.cjs';
// dist/ is emptied first: a bundle of the other format left beside this one would be deployed
// with it for nothing.
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['index.mjs'],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format,
  outfile: `dist/${main}`,
  external: ['@google-cloud/functions-framework'],
  // ioredis and the AWS SDK are CommonJS and require() Node's own modules: an ESM bundle
  // needs a require of its own for that.
  banner: format === 'esm' ? { js: "import { createRequire as steadyfnCreateRequire } from 'node:module'; const require = steadyfnCreateRequire(import.meta.url);" } : {},
  logLevel: 'warning',
});
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync('dist/package.json', JSON.stringify({ name: `${pkg.name}-bundle`, private: true, main, engines: pkg.engines, dependencies: { '@google-cloud/functions-framework': pkg.dependencies['@google-cloud/functions-framework'] } }, null, 2));
console.log(`dist/${main} and dist/package.json written`);
