/**
 * The packages as they are published: each workspace package packed with `pnpm pack` (which
 * applies the `.pnpmfile.cjs` beforePacking hook, as `pnpm publish` and `changeset publish`
 * do) and unpacked. Packing all seven takes seconds, so the result is kept under
 * `node_modules/.cache/steadyfn-pack/<fingerprint>/` and reused until a manifest, a build
 * output, a README, the LICENSE or the hook changes; parallel test files that miss the cache
 * pack into their own temporary directory and the first to finish publishes it by rename.
 *
 * The cache belongs to the checkout (its own node_modules), not to `.services/`: git worktrees
 * share one `.services` (a symlink), and a worktree whose build differs would publish its own
 * fingerprint there and delete another worktree's as stale while that one's tests read it
 * (ENOENT).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The package.json fields the release checks read. */
export interface PackedManifest {
  name: string;
  version: string;
  license?: string;
  author?: string | { name: string };
  contributors?: unknown[];
  keywords?: string[];
  homepage?: string;
  bugs?: { url?: string } | string;
  repository?: { type?: string; url?: string; directory?: string } | string;
  exports?: Record<string, unknown>;
  typesVersions?: Record<string, Record<string, string[]>>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  files?: string[];
}

export interface PackedPackage {
  /** The workspace directory name (`handler`, `connections`, …). */
  dir: string;
  /** The .tgz `pnpm pack` wrote. */
  tarball: string;
  /** Where the tarball is unpacked: the directory a user's node_modules/@steadyfn/<dir> holds. */
  root: string;
  /** The packed package.json. */
  manifest: PackedManifest;
  /** Every file in the tarball, relative to `root`. */
  files: string[];
  /** Size of the .tgz, and the sum of its files' sizes unpacked (bytes). */
  packedBytes: number;
  unpackedBytes: number;
}

/** Workspace package directories (those with a package.json), sorted. */
export function workspacePackages(): string[] {
  return readdirSync(join(root, 'packages'))
    .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
    .sort();
}

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/** Changes whenever anything that goes into a tarball changes. */
function fingerprint(dirs: string[]): string {
  const hash = createHash('sha256');
  for (const file of ['.pnpmfile.cjs', 'LICENSE']) hash.update(readFileSync(join(root, file)));
  for (const dir of dirs) {
    const pkg = join(root, 'packages', dir);
    hash.update(dir);
    for (const file of ['package.json', 'README.md', 'LICENSE']) if (existsSync(join(pkg, file))) hash.update(readFileSync(join(pkg, file)));
    if (!existsSync(join(pkg, 'dist'))) throw new Error(`packages/${dir}/dist is missing: run \`npm run build\``);
    for (const file of walk(join(pkg, 'dist')).sort()) {
      const s = statSync(join(pkg, 'dist', file));
      hash.update(`${file}:${s.size}:${s.mtimeMs}`);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function packInto(out: string, dirs: string[]): void {
  // One pnpm process packs them all (pnpm from the pinned toolchain, on PATH under test/toolchain.sh).
  const tarballs = join(out, 'tarballs');
  mkdirSync(tarballs);
  execFileSync('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], { cwd: root, stdio: 'pipe' });
  for (const dir of dirs) {
    const name = (JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; version: string });
    const tarball = `${name.name.replace(/^@/, '').replace('/', '-')}-${name.version}.tgz`;
    if (!existsSync(join(tarballs, tarball))) throw new Error(`pnpm pack wrote no ${tarball} for packages/${dir}`);
    const dest = join(out, dir);
    mkdirSync(dest);
    renameSync(join(tarballs, tarball), join(dest, tarball));
    execFileSync('tar', ['xzf', join(dest, tarball), '-C', dest]);
  }
}

let memo: PackedPackage[] | undefined;

/** Packs (or reuses the packs of) every workspace package, built beforehand. Synchronous: a cache hit costs nothing, a miss a few seconds. */
export function packedPackages(): PackedPackage[] {
  memo ??= (() => {
    const dirs = workspacePackages();
    const cacheRoot = join(root, 'node_modules', '.cache', 'steadyfn-pack');
    const target = join(cacheRoot, fingerprint(dirs));
    if (!existsSync(join(target, 'done'))) {
      mkdirSync(cacheRoot, { recursive: true });
      const tmp = mkdtempSync(join(cacheRoot, 'tmp-'));
      try {
        packInto(tmp, dirs);
        writeFileSync(join(tmp, 'done'), '');
        try {
          renameSync(tmp, target);
        } catch (error) {
          // Another test file published the same fingerprint first: use it.
          if (!existsSync(join(target, 'done'))) throw error;
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      // Older fingerprints are this checkout's stale builds.
      for (const old of readdirSync(cacheRoot)) {
        if (old !== target.slice(cacheRoot.length + 1) && !old.startsWith('tmp-')) rmSync(join(cacheRoot, old), { recursive: true, force: true });
      }
    }
    return dirs.map((dir) => {
      const dest = join(target, dir);
      const tarball = join(dest, readdirSync(dest).find((f) => f.endsWith('.tgz'))!);
      const pkgRoot = join(dest, 'package');
      const files = walk(pkgRoot).sort();
      return {
        dir,
        tarball,
        root: pkgRoot,
        manifest: JSON.parse(readFileSync(join(pkgRoot, 'package.json'), 'utf8')) as PackedManifest,
        files,
        packedBytes: statSync(tarball).size,
        unpackedBytes: files.reduce((sum, f) => sum + statSync(join(pkgRoot, f)).size, 0),
      };
    });
  })();
  return memo;
}
