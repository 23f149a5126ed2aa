// Bundles the actions into one CommonJS file, dist/index.js (`npm run build`): the smallest
// action to deploy, sent as the action's code (`wsk action create … dist/index.js --kind
// nodejs:22 --main <name>`). The Node.js runtime loads an action with require()/eval, so the
// bundle is CommonJS.
import { build } from 'esbuild';

await build({
  entryPoints: ['index.js'],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  outfile: 'dist/index.js',
  logLevel: 'warning',
});
console.log('dist/index.js written');
