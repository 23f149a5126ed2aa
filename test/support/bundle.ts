/**
 * Bundles a child-process entry (TypeScript, importing the package from source) into one
 * file that plain `node` runs, in a temp directory with no node_modules: for tests that
 * need a real separate process (signals, freezing with SIGSTOP) or a real bundle (which
 * drivers it holds, how it loads them).
 */
import { buildSync } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The banner an ESM bundle for Node needs so that bundled CommonJS drivers can `require` Node's modules. */
export const CREATE_REQUIRE_BANNER = "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);";

export interface BundleOptions {
  /** Default `cjs`. */
  format?: 'cjs' | 'esm';
  /** Add the createRequire banner (ESM). */
  banner?: boolean;
  /** Packages left out of the bundle (and not installed next to it). */
  external?: string[];
}

/**
 * Bundles `entry` — a `file:` URL, e.g. `new URL('./child.ts', import.meta.url).href` from the
 * calling test — and returns the bundle's path and its temp directory (remove it when done).
 */
export function bundleChild(entry: string, options: BundleOptions = {}): { file: string; dir: string } {
  const format = options.format ?? 'cjs';
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-child-'));
  const file = join(dir, format === 'esm' ? 'child.mjs' : 'child.cjs');
  buildSync({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'node',
    format,
    target: 'node22',
    conditions: ['steadyfn-source'],
    external: options.external ?? [],
    ...(options.banner ? { banner: { js: CREATE_REQUIRE_BANNER } } : {}),
    logLevel: 'error',
    outfile: file,
  });
  return { file, dir };
}

/**
 * Runs a bundled child (`node <file> ...args`) to its end and collects its output; killed with
 * SIGKILL after `killAfterMs` (a process kept alive past it is a failure of its own: `code` null).
 */
export async function runChild(file: string, args: string[], killAfterMs = 20_000): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, out, err };
}
