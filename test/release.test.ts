/**
 * Release readiness, checked on what users install: every package packed with `pnpm pack`
 * (test/support/pack.ts) and linted as a tarball by publint and by @arethetypeswrong/cli (both
 * run offline from the workspace's devDependencies); the packed manifests' metadata, files and
 * sibling ranges; and the changesets configuration, proven by running `changeset version` on a
 * copy of the workspace's manifests.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import semver from 'semver';
import { afterAll, describe, expect, it } from 'vitest';
import { packedPackages, workspacePackages, type PackedManifest, type PackedPackage } from './support/pack.js';
import { isReleased, nextRelease } from './support/sibling-versions.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The canonical repository the manifests point at (assumed; see the top-level README). */
const REPOSITORY = 'https://github.com/steadyfn/steadyfn';

const packed = packedPackages();
const byName = new Map(packed.map((p) => [p.manifest.name, p]));
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

afterAll(() => {
  // The sizes a user downloads and installs, for the release notes and the README.
  const rows = packed.map((p) => `  ${p.manifest.name.padEnd(22)} packed ${kib(p.packedBytes).padStart(10)}  unpacked ${kib(p.unpackedBytes).padStart(10)}  ${p.files.length} files`);
  console.log(`[release] tarball sizes\n${rows.join('\n')}`);
});

/** Every string an `exports` value points at, with the conditions that lead to it. */
function exportTargets(value: unknown, path: string[] = []): Array<{ path: string[]; target: string }> {
  if (typeof value === 'string') return [{ path, target: value }];
  if (Array.isArray(value)) return value.flatMap((v) => exportTargets(v, path));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => exportTargets(v, [...path, k]));
  return [];
}

/** The `@steadyfn/*` ranges a packed manifest declares, as [field, sibling, range]. */
function siblingRanges(manifest: PackedManifest): Array<[string, string, string]> {
  return (['dependencies', 'peerDependencies'] as const).flatMap((field) =>
    Object.entries(manifest[field] ?? {})
      .filter(([name]) => name.startsWith('@steadyfn/'))
      .map(([name, range]): [string, string, string] => [field, name, range]),
  );
}

describe.each(packed.map((p) => [p.manifest.name, p] as [string, PackedPackage]))('%s as packed', (_name, pkg) => {
  const { manifest } = pkg;

  it('holds dist/, README.md, LICENSE (the repository’s MIT licence) and package.json, and nothing else', () => {
    expect(pkg.files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(readFileSync(join(pkg.root, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} steadyfn contributors\n/);
    expect(manifest.license).toBe('MIT');
  });

  it('ships no source maps and no sources (maps with embedded sources were most of each package)', () => {
    expect(pkg.files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.cts'))).toEqual([]);
    const mapComments = pkg.files.filter((f) => /\.c?js$/.test(f) && /\/\/# sourceMappingURL=/.test(readFileSync(join(pkg.root, f), 'utf8')));
    expect(mapComments).toEqual([]);
  });

  it('has no export condition pointing outside the tarball', () => {
    const targets = exportTargets(manifest.exports);
    expect(targets.length).toBeGreaterThan(0);
    const missing = targets.filter(({ target }) => !existsSync(join(pkg.root, target))).map(({ path, target }) => `${path.join(' > ')} → ${target}`);
    expect(missing).toEqual([]);
    expect(targets.filter(({ path }) => path.includes('steadyfn-source'))).toEqual([]);
  });

  it('gives legacy node10 resolution every subpath entry through typesVersions', () => {
    const subpaths = Object.keys(manifest.exports ?? {}).filter((k) => k !== '.' && k !== './package.json').map((k) => k.slice(2));
    const mapped = Object.keys(manifest.typesVersions?.['*'] ?? {});
    expect(mapped.sort()).toEqual(subpaths.sort());
  });

  it('names its repository, homepage, issue tracker, keywords and authors', () => {
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${pkg.dir}` });
    expect(manifest.homepage).toBe(`${REPOSITORY}/tree/main/packages/${pkg.dir}#readme`);
    expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` });
    expect(manifest.keywords?.length).toBeGreaterThanOrEqual(5);
    expect(manifest.author).toBe('steadyfn contributors');
  });

  it('keeps the workspace out of the manifest (no workspace: ranges, scripts or devDependencies)', () => {
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
    expect(manifest.scripts).toBeUndefined();
    expect(manifest.devDependencies).toBeUndefined();
  });

  it('accepts the current (or, never released, the first) release of every sibling it depends on, and the next patch and minor, within 0.x', () => {
    for (const [field, sibling, range] of siblingRanges(manifest)) {
      const packedSibling = byName.get(sibling);
      expect(packedSibling, `${field} ${sibling} is a workspace package`).toBeDefined();
      // A peer range's floor is the first release with the APIs imported (test/peer-ranges.test.ts):
      // for a sibling never released, the release its pending changesets make, not 0.0.0.
      const version = packedSibling!.manifest.version;
      const current = field === 'peerDependencies' && !isReleased(packedSibling!.dir) ? nextRelease(sibling, version) : version;
      for (const version of [current, semver.inc(current, 'patch')!, semver.inc(current, 'minor')!]) {
        expect(semver.satisfies(version, range), `${manifest.name} ${field} ${sibling}@"${range}" accepts ${version}`).toBe(true);
      }
      // A major release of a sibling is a decision, not something a range absorbs.
      expect(semver.satisfies(semver.inc(current, 'major')!, range), `${field} ${sibling}@"${range}" excludes the next major`).toBe(false);
    }
  });

  it('passes publint (suggestions and warnings count as failures)', async () => {
    const { messages, pkg: linted } = await publint({ pkgDir: pkg.root, pack: false, level: 'suggestion', strict: true });
    expect(messages.map((m) => formatMessage(m, linted, { color: false }))).toEqual([]);
  });

  it('passes @arethetypeswrong/cli in every resolution mode (node10, node16 CJS and ESM, bundler), for every entry', () => {
    const cli = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    let out: string;
    try {
      out = execFileSync(process.execPath, [cli, pkg.tarball, '--format', 'json', '--profile', 'strict', '--no-definitely-typed'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      // Exit code 1 when it finds problems; the report is still on stdout.
      out = (error as { stdout?: string }).stdout ?? '';
      if (out === '') throw error;
    }
    const report = JSON.parse(out) as { analysis: { problems: Array<{ kind: string; entrypoint?: string; resolutionKind?: string }>; entrypoints: Record<string, unknown> } };
    expect(report.analysis.problems).toEqual([]);
    const entries = Object.keys(manifest.exports ?? {}).filter((k) => k !== './package.json');
    expect(Object.keys(report.analysis.entrypoints)).toEqual(expect.arrayContaining(entries));
  });
});

describe('changesets', () => {
  const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8')) as Record<string, unknown>;
  const changesets = readdirSync(join(root, '.changeset'))
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => readFileSync(join(root, '.changeset', f), 'utf8'));

  it('every package has a changelog history: a pending changeset naming it, or a CHANGELOG.md', () => {
    const named = (name: string) => changesets.some((text) => new RegExp(`^['"]${name}['"]: (major|minor|patch)$`, 'm').test(text.split(/^---$/m)[1] ?? ''));
    const without = packed.filter((p) => !named(p.manifest.name) && !existsSync(join(root, 'packages', p.dir, 'CHANGELOG.md'))).map((p) => p.manifest.name);
    expect(without).toEqual([]);
  });

  it('versions packages independently and never rewrites the sibling ranges', () => {
    expect(config.fixed).toEqual([]);
    expect(config.linked).toEqual([]);
    expect(config.bumpVersionsWithWorkspaceProtocolOnly).toBe(true);
    for (const dir of workspacePackages()) {
      const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as PackedManifest;
      for (const [field, sibling, range] of siblingRanges(manifest)) {
        expect(range.startsWith('workspace:'), `packages/${dir} ${field} ${sibling} is a plain range, published as written`).toBe(false);
      }
    }
  });

  /** Runs `changeset version` with the given changesets on a copy of the workspace's manifests; returns the manifests after it. */
  function versionWith(pending: Record<string, string>): Map<string, PackedManifest> {
    const dir = mkdtempSync(join(tmpdir(), 'steadyfn-changesets-'));
    try {
      mkdirSync(join(dir, '.changeset'));
      cpSync(join(root, '.changeset', 'config.json'), join(dir, '.changeset', 'config.json'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'copy', private: true, workspaces: ['packages/*'] }));
      writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
      for (const pkg of workspacePackages()) {
        mkdirSync(join(dir, 'packages', pkg), { recursive: true });
        cpSync(join(root, 'packages', pkg, 'package.json'), join(dir, 'packages', pkg, 'package.json'));
      }
      for (const [file, text] of Object.entries(pending)) writeFileSync(join(dir, '.changeset', `${file}.md`), text);
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, stdio: 'pipe' });
      git('init', '-q');
      git('add', '-A');
      git('commit', '-qm', 'copy');
      execFileSync(process.execPath, [join(root, 'node_modules', '@changesets', 'cli', 'bin.js'), 'version'], { cwd: dir, stdio: 'pipe' });
      return new Map(workspacePackages().map((pkg) => {
        const manifest = JSON.parse(readFileSync(join(dir, 'packages', pkg, 'package.json'), 'utf8')) as PackedManifest;
        return [manifest.name, manifest];
      }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const before = new Map(workspacePackages().map((pkg) => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')) as PackedManifest;
    return [manifest.name, manifest];
  }));
  const changeset = (bumps: Record<string, string>) => `---\n${Object.entries(bumps).map(([n, b]) => `'${n}': ${b}`).join('\n')}\n---\n\nA release.\n`;

  it('a minor release of @steadyfn/handler alone releases nothing else, and every sibling range still accepts it', () => {
    const after = versionWith({ handler: changeset({ '@steadyfn/handler': 'minor' }) });
    const handler = after.get('@steadyfn/handler')!;
    expect(handler.version).toBe(semver.inc(before.get('@steadyfn/handler')!.version, 'minor'));
    for (const [name, manifest] of after) {
      if (name === '@steadyfn/handler') continue;
      expect(manifest.version, `${name} is not released`).toBe(before.get(name)!.version);
      expect(manifest.peerDependencies, `${name} peer ranges unchanged`).toEqual(before.get(name)!.peerDependencies);
      for (const [field, sibling, range] of siblingRanges(manifest)) {
        if (sibling === '@steadyfn/handler') expect(semver.satisfies(handler.version, range), `${name} ${field} ${range} accepts handler ${handler.version}`).toBe(true);
      }
    }
  }, 60_000);

  it('the pending changesets release versions every provider example\'s @steadyfn ranges accept', () => {
    // The examples are copied by users and installed from npm with their own ranges: a first
    // release that came out as 0.0.1 for a package the examples ask ^0.1.0 of would fail their
    // `npm install`; a range still at ^0.1.0 after a 0.2.0 that added an API they use would
    // fail here too (0.2.0 is not accepted), so the ranges are raised with the change.
    const pending = Object.fromEntries(
      readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md').map((f) => [f.slice(0, -3), readFileSync(join(root, '.changeset', f), 'utf8')]),
    );
    const after = versionWith(pending);
    const examples = readdirSync(join(root, 'examples')).filter((name) => existsSync(join(root, 'examples', name, 'package.json')));
    let checked = 0;
    for (const name of examples) {
      const manifest = JSON.parse(readFileSync(join(root, 'examples', name, 'package.json'), 'utf8')) as PackedManifest;
      for (const [field, sibling, range] of siblingRanges(manifest)) {
        if (range.startsWith('workspace:')) continue; // the demo runs from this checkout
        checked += 1;
        const released = after.get(sibling)?.version;
        expect(released !== undefined && semver.satisfies(released, range), `examples/${name} ${field} ${sibling}@"${range}" accepts the release ${released}`).toBe(true);
        // Nor an older minor line: an example uses this checkout's APIs, and a new option or
        // function comes in a minor release (`>=0.0.0 <1` would let npm keep a 0.0.x without it).
        const oldest = semver.minVersion(range);
        const line = `${semver.major(released!)}.${semver.minor(released!)}.0`;
        expect(oldest !== null && semver.gte(oldest, line), `examples/${name} ${field} ${sibling}@"${range}" admits nothing older than ${line}`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(0);
  }, 60_000);

  it('a minor release of every package keeps every sibling range satisfied and unchanged', () => {
    const bumps = Object.fromEntries([...before.keys()].map((name) => [name, 'minor']));
    const after = versionWith({ all: changeset(bumps) });
    for (const [name, manifest] of after) {
      expect(manifest.version).toBe(semver.inc(before.get(name)!.version, 'minor'));
      expect(manifest.dependencies).toEqual(before.get(name)!.dependencies);
      expect(manifest.peerDependencies).toEqual(before.get(name)!.peerDependencies);
      for (const [field, sibling, range] of siblingRanges(manifest)) {
        expect(semver.satisfies(after.get(sibling)!.version, range), `${name} ${field} ${sibling}@"${range}" accepts ${after.get(sibling)!.version}`).toBe(true);
      }
    }
  }, 60_000);
});
