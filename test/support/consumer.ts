/**
 * A throwaway project that installs the steadyfn packages by name, the way a user's project
 * holds them: `node_modules/@steadyfn/<name>` is the content of the package's tarball as
 * `pnpm pack` writes it (test/support/pack.ts: the published manifest, dist/, README, LICENSE;
 * no sources, no source condition, none of the workspace's devDependencies next to it), and
 * only the third-party packages asked for are linked in. Type-checks run the repository's
 * TypeScript against it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packedPackages } from './pack.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where the workspace has `name` installed (any package's node_modules, or the root's). */
export function installedDir(name: string): string {
  const bases = [root, ...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d)), ...readdirSync(join(root, 'examples')).map((d) => join(root, 'examples', d))];
  for (const base of bases) {
    const dir = join(base, 'node_modules', name);
    if (existsSync(join(dir, 'package.json'))) return realpathSync(dir);
  }
  throw new Error(`${name} is not installed anywhere in the workspace (run pnpm install)`);
}

export interface Consumer {
  dir: string;
  /** Writes a file relative to the project. */
  write(path: string, text: string): void;
  /** Runs `tsc -p <project>`; the exit status and its output (file paths relative to the project). */
  tsc(project: string): { ok: boolean; output: string };
  dispose(): void;
}

/**
 * @param packages - Workspace package directories to install from their build (`handler`, `connections`, …).
 * @param deps - Third-party packages to link in (`ioredis`, `zod`, `@types/node`, …).
 */
export function makeConsumer(packages: string[], deps: string[]): Consumer {
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-consumer-'));
  const modules = join(dir, 'node_modules');
  const packed = packedPackages();
  for (const pkg of packages) {
    const from = packed.find((p) => p.dir === pkg);
    if (from === undefined) throw new Error(`packages/${pkg} is not a workspace package`);
    cpSync(from.root, join(modules, '@steadyfn', pkg), { recursive: true });
  }
  for (const dep of deps) {
    const to = join(modules, dep);
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(installedDir(dep), to, 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  return {
    dir,
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    tsc(project) {
      try {
        const output = execFileSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
        return { ok: true, output };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The strict compiler options every consumer check uses, for one module resolution mode. */
export function strictOptions(mode: 'node16' | 'bundler'): Record<string, unknown> {
  return {
    strict: true,
    skipLibCheck: false,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    target: 'ES2023',
    lib: ['ES2023'],
    types: ['node'],
    ...(mode === 'node16' ? { module: 'node16', moduleResolution: 'node16' } : { module: 'esnext', moduleResolution: 'bundler' }),
  };
}
