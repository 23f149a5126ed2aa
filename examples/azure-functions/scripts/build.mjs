// Bundles the functions for deployment: `npm run build` (ESM) or `npm run build -- --format=cjs`.
// dist/ then holds the bundle, host.json and a package.json whose `main` is the bundle and whose
// only dependency is @azure/functions, which stays out of the bundle (the registrations must
// reach the copy the worker loads): publish it with `func azure functionapp publish <app>` from dist/.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const format = process.argv.includes('--format=cjs') ? 'cjs' : 'esm';
const main = format === 'esm' ? 'index.mjs' : 'index.cjs';
// dist/ is emptied first: a bundle of the other format left beside this one would be deployed
// with it for nothing.
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/functions/orders.mjs'],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format,
  outfile: `dist/${main}`,
  external: ['@azure/functions'],
  // ioredis and the AWS SDK are CommonJS and require() Node's own modules: an ESM bundle
  // needs a require of its own for that.
  banner: format === 'esm' ? { js: "import { createRequire as steadyfnCreateRequire } from 'node:module'; const require = steadyfnCreateRequire(import.meta.url);" } : {},
  logLevel: 'warning',
});
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync('dist/package.json', JSON.stringify({ name: `${pkg.name}-bundle`, private: true, main, engines: pkg.engines, dependencies: { '@azure/functions': pkg.dependencies['@azure/functions'] } }, null, 2));
copyFileSync('host.json', 'dist/host.json');
console.log(`dist/${main}, dist/package.json and dist/host.json written`);
