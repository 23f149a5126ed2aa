/**
 * Bundles a child-process entry (TypeScript, importing the package from source) into one
 * CommonJS file that plain `node` runs: for tests that need a real separate process
 * (signals, freezing with SIGSTOP).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../../../test/services/env.js';

/** Returns the bundle's path and its temp directory (remove it when done). */
export function bundleChild(entry: string): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-child-'));
  const file = join(dir, 'child.cjs');
  execFileSync(
    join(repoRoot, 'node_modules', '.bin', 'esbuild'),
    [
      fileURLToPath(new URL(entry, import.meta.url)),
      '--bundle',
      '--platform=node',
      '--format=cjs',
      '--conditions=steadyfn-source',
      '--log-level=error',
      `--outfile=${file}`,
    ],
    { stdio: 'pipe', timeout: 30_000 },
  );
  return { file, dir };
}
