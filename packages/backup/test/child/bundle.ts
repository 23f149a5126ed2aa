/**
 * Bundles a child-process entry (TypeScript, importing the package from source) into one
 * CommonJS file that plain `node` runs, for tests that kill a real process.
 */
import { buildSync } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Returns the bundle's path and its temp directory (remove it when done). */
export function bundleChild(entry: string): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-backup-child-'));
  const file = join(dir, 'child.cjs');
  buildSync({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    conditions: ['steadyfn-source'],
    logLevel: 'error',
    outfile: file,
  });
  return { file, dir };
}
