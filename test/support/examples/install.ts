/**
 * Examples installed as a user installs them: every package packed with `pnpm pack` (the
 * tarball npm would publish), the example folder copied to a temp directory OUTSIDE the
 * workspace, its `@steadyfn/*` dependencies pointed at the tarballs (direct ones rewritten to
 * `file:`, the rest through `overrides`), and a plain `npm install` (third-party packages from
 * the npm registry, through npm's cache).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../consumer.js';

const run = promisify(execFile);
const PACKAGES = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));

/** Hash of everything a tarball holds (manifest, README, dist), so packs are reused only while the build is unchanged. */
function buildHash(): string {
  const hash = createHash('sha256');
  const add = (file: string) => hash.update(relative(root, file)).update(readFileSync(file));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else add(path);
    }
  };
  for (const pkg of PACKAGES) {
    const dir = join(root, 'packages', pkg);
    if (!existsSync(join(dir, 'dist'))) throw new Error(`packages/${pkg}/dist is missing: run \`npm run build\` first`);
    add(join(dir, 'package.json'));
    walk(join(dir, 'dist'));
  }
  return hash.digest('hex').slice(0, 16);
}

let packed: Promise<Record<string, string>> | undefined;

/** `@steadyfn/<name>` → absolute path of its tarball. Packed once per build (shared by test files through a temp directory). */
export function tarballs(): Promise<Record<string, string>> {
  packed ??= (async () => {
    const dir = join(tmpdir(), `steadyfn-tarballs-${buildHash()}`);
    if (!existsSync(join(dir, 'complete'))) {
      const staging = mkdtempSync(join(tmpdir(), 'steadyfn-pack-'));
      for (const pkg of PACKAGES) await run('pnpm', ['pack', '--pack-destination', staging], { cwd: join(root, 'packages', pkg), timeout: 120_000 });
      writeFileSync(join(staging, 'complete'), '');
      try {
        renameSync(staging, dir);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another test file packed the same build first
      }
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    return Object.fromEntries(
      PACKAGES.map((pkg) => {
        const file = files.find((f) => f.startsWith(`steadyfn-${pkg}-`));
        if (!file) throw new Error(`no tarball for @steadyfn/${pkg} in ${dir}`);
        return [`@steadyfn/${pkg}`, join(dir, file)];
      }),
    );
  })();
  return packed;
}

export interface InstalledExample {
  /** The installed copy (outside the workspace). */
  dir: string;
  /** Runs an npm script of the example (`npm run <script>`). */
  npmRun(script: string, args?: string[], env?: NodeJS.ProcessEnv): Promise<string>;
  dispose(): void;
}

/** Copies `examples/<name>` outside the workspace and installs it with npm against the packed tarballs. */
export async function installExample(name: string): Promise<InstalledExample> {
  const packs = await tarballs();
  const dir = mkdtempSync(join(tmpdir(), `steadyfn-example-${name}-`));
  cpSync(join(root, 'examples', name), dir, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies?: Record<string, string>; overrides?: Record<string, string> };
  const deps = manifest.dependencies ?? {};
  for (const dep of Object.keys(deps)) {
    if (!dep.startsWith('@steadyfn/')) continue;
    if (!packs[dep]) throw new Error(`examples/${name} depends on ${dep}, which is not a package of this repository`);
    if (!/^\^\d+\.\d+\.\d+$/.test(deps[dep]!)) throw new Error(`examples/${name}: ${dep} must be a caret range of a published version, not ${deps[dep]}`);
    deps[dep] = `file:${packs[dep]}`;
  }
  manifest.overrides = Object.fromEntries(Object.entries(packs).map(([pkg, file]) => [pkg, deps[pkg] ? `$${pkg}` : `file:${file}`]));
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const npm = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run('npm', args, { cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false', ...env }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }).then((r) => r.stdout);
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']);
  return {
    dir,
    npmRun: (script, args = [], env) => npm(['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], env),
    dispose: () => {
      // With the deployments made from it (their node_modules are links into it, or absent).
      for (const made of deployments.filter((d) => d.from.startsWith(dir))) rmSync(made.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const deployments: Array<{ from: string; dir: string }> = [];

/** A fresh directory holding only `files` (copied from `from`): a deployment of a bundle, without node_modules. Removed with the example it came from. */
export function deploymentDir(from: string, files: string[], extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-deploy-'));
  deployments.push({ from, dir });
  for (const file of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    cpSync(join(from, file), join(dir, file), { recursive: true });
  }
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  return dir;
}
