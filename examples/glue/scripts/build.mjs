// Bundles the functions into one file for deployment: `npm run build` (ESM, dist/index.mjs) or
// `npm run build -- --format=cjs` (dist/index.cjs). Either runs as handler `index.<name>`.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const format = process.argv.includes('--format=cjs') ? 'cjs' : 'esm';
// dist/ is emptied first: a bundle of the other format left beside this one would be deployed
// with it (and on Lambda, index.mjs is resolved before index.cjs).
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['index.mjs'],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format,
  outfile: format === 'esm' ? 'dist/index.mjs' : 'dist/index.cjs',
  // ioredis and the AWS SDK are CommonJS and require() Node's own modules: an ESM bundle
  // needs a require of its own for that.
  banner: format === 'esm' ? { js: "import { createRequire as steadyfnCreateRequire } from 'node:module'; const require = steadyfnCreateRequire(import.meta.url);" } : {},
  logLevel: 'warning',
});
console.log(`dist/index.${format === 'esm' ? 'mjs' : 'cjs'} written`);
