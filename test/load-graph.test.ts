/**
 * What loading a steadyfn package loads of `@steadyfn/handler` (cold start, issue 7): only the
 * modules `/internal` needs, never the root entry, which carries every provider's adapter
 * (Google, Azure, OpenWhisk, detection) — about 115 KB a Lambda function with the `/aws` entry
 * would otherwise parse unbundled at each cold start. Checked for every package that depends on
 * the handler, on the published build (`dist/`, as a deployment loads it; run the build first),
 * ESM and CommonJS, in a fresh `node` process whose module hooks record every file it loads.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = join(dirname(fileURLToPath(import.meta.url)), '../packages');

/** The files of `@steadyfn/handler`'s dist a fresh process loads with `load` (an import or a require of the package). */
function handlerFilesLoaded(pkg: string, load: string): string[] {
  const script = `
    const { registerHooks, createRequire } = await import('node:module');
    const { fileURLToPath } = await import('node:url');
    const loaded = [];
    registerHooks({ load(url, context, next) { if (url.startsWith('file:')) loaded.push(fileURLToPath(url)); return next(url, context); } });
    const require = createRequire(${JSON.stringify(join(pkg, 'package.json'))});
    ${load};
    process.stdout.write(JSON.stringify(loaded));
  `;
  // Neither vitest's nor the workspace's source condition: the published build, as deployed.
  const env = { ...process.env, NODE_OPTIONS: '' };
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg, env, encoding: 'utf8' });
  return (JSON.parse(out) as string[]).filter((file) => /[\\/]handler[\\/]dist[\\/]/.test(file)).map((file) => file.replace(/.*[\\/]dist[\\/]/, ''));
}

// Every package that depends on @steadyfn/handler (each package.json names it).
describe.each(['idempotency', 'connections', 'lease', 'state', 'outbox', 'backup'])('loading @steadyfn/%s', (name) => {
  const pkg = join(packages, name);
  for (const [format, load, root] of [
    ['ESM', `await import(${JSON.stringify(join(pkg, 'dist/index.js'))})`, 'index.js'],
    ['CommonJS', `require(${JSON.stringify(join(pkg, 'dist/index.cjs'))})`, 'index.cjs'],
  ] as const) {
    it(`${format}: loads @steadyfn/handler/internal, not the handler's root entry`, () => {
      const files = handlerFilesLoaded(pkg, load);
      expect(files).toContain(format === 'ESM' ? 'internal.js' : 'internal.cjs');
      expect(files).not.toContain(root);
    });
  }
});
