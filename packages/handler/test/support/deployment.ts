/**
 * Lays out the built package as a deployment would ship it: `<root>/node_modules/@steadyfn/handler`
 * (built by the package's own tsup config into that private folder) and `zod` beside it.
 * A private build, because rebuilding the shared dist/ would pull it from under tests that read it.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = join(packageDir, '../..');

export async function installBuiltHandler(root: string): Promise<void> {
  const installed = join(root, 'node_modules/@steadyfn/handler');
  mkdirSync(installed, { recursive: true });
  copyFileSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
  const tsup = join(dirname(createRequire(join(repoRoot, 'package.json')).resolve('tsup/package.json')), 'dist/cli-default.js');
  await promisify(execFile)(process.execPath, [tsup, '--out-dir', join(installed, 'dist'), '--no-dts', '--silent'], { cwd: packageDir, timeout: 60_000 });
  // Beside it, what a deployment package ships with it: its dependencies, and zod (its peer).
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of ['zod', ...Object.keys(manifest.dependencies ?? {})]) {
    mkdirSync(dirname(join(root, 'node_modules', name)), { recursive: true });
    symlinkSync(realpathSync(join(packageDir, 'node_modules', name)), join(root, 'node_modules', name), 'dir');
  }
}
