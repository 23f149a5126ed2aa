/**
 * A package's peer range on a workspace sibling refuses the sibling's versions that lack an API
 * the package imports from it, and admits the versions users will install. Review finding: the
 * idempotency plugin and the outbox's inbox call `functionStarted(ctx)` from
 * `@steadyfn/handler`, and every package declared `"@steadyfn/handler": ">=0.0.0 <1"`, a range
 * that would let a package manager pair them with a handler from before it.
 *
 * Where the minimum comes from: no package has been released yet (every version is 0.0.0, no
 * CHANGELOG.md, no tag). `functionStarted` came with the minor changeset
 * `.changeset/function-started.md`, so the first handler release that has it is the one the
 * pending changesets make: 0.1.0 (`changeset status`), the first release of every package. So
 * every API a package imports from a sibling today arrives with that sibling's first release,
 * and no published handler lacks `functionStarted`: the ranges were not yet wrong on npm, but
 * `>=0.0.0` named no version anyone can install and would not have been raised when an API came
 * in a later release. The floor is now the first release, and `SINCE` names an API that comes
 * later. Besides it, the range admits the unreleased version exactly (`0.0.0 || >=0.1.0 <1`):
 * never published, it is what `pnpm pack` makes from this repository, and a new user installing
 * those tarballs with plain npm met `ERESOLVE` (new-user trial, 2026-12-06).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { workspacePackages } from './support/pack.js';
import { firstRelease, isReleased, nextRelease } from './support/sibling-versions.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The release of a sibling that first has an API, when later than the sibling's first release.
 * When a package starts importing an API a released sibling gains, add it here with the version
 * the sibling's pending changesets release (and raise the package's peer range to it).
 */
const SINCE: Record<string, Record<string, string>> = {
  // .changeset/function-started.md (minor): the handler's first release, 0.1.0.
  '@steadyfn/handler': { functionStarted: '0.1.0' },
};

interface Manifest {
  name: string;
  version: string;
  peerDependencies?: Record<string, string>;
}

const manifests = new Map(
  workspacePackages().map((dir) => [dir, JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest] as const),
);
const dirOf = new Map([...manifests].map(([dir, m]) => [m.name, dir]));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The names a package's sources import (or re-export) from `sibling` and its subpath entries. */
function importedNames(dir: string, sibling: string): Set<string> {
  const names = new Set<string>();
  const from = new RegExp(`(?:import|export)\\s+(?:type\\s+)?\\{([^}]*)\\}\\s*from\\s*'${sibling.replace('/', '\\/')}(?:/[a-z-]+)?'`, 'g');
  for (const file of sources(join(root, 'packages', dir, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(from)) {
      for (const part of match[1]!.split(',')) {
        const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!.trim();
        if (name !== '') names.add(name);
      }
    }
  }
  return names;
}

const peers = [...manifests].flatMap(([dir, m]) =>
  Object.entries(m.peerDependencies ?? {})
    .filter(([name]) => dirOf.has(name))
    .map(([sibling, range]) => ({ dir, name: m.name, sibling, range })),
);

describe('peer ranges on workspace siblings', () => {
  it('finds the packages that call functionStarted (the scan of imports works), and every API named in SINCE is exported', async () => {
    const callers = [...manifests.keys()].filter((dir) => importedNames(dir, '@steadyfn/handler').has('functionStarted'));
    expect(callers).toEqual(expect.arrayContaining(['idempotency', 'outbox']));
    for (const [sibling, apis] of Object.entries(SINCE)) {
      const exported = (await import(/* @vite-ignore */ sibling)) as Record<string, unknown>;
      for (const api of Object.keys(apis)) expect(exported[api], `${sibling} exports ${api}`).toBeDefined();
    }
  });

  it.each(peers.map((p) => [`${p.name} → ${p.sibling} "${p.range}"`, p] as const))('%s excludes the versions before the APIs it imports and admits what users install', (_title, { dir, sibling, range }) => {
    const siblingDir = dirOf.get(sibling)!;
    const { version } = manifests.get(siblingDir)!;
    const floor = firstRelease(siblingDir, sibling, version);
    const imported = [...importedNames(dir, sibling)];
    expect(imported.length, `packages/${dir} imports from ${sibling}`).toBeGreaterThan(0);
    const needed = imported.reduce((min, api) => {
      const since = SINCE[sibling]?.[api];
      return since !== undefined && semver.gt(since, min) ? since : min;
    }, floor);
    // The unreleased workspace version, admitted exactly (`0.0.0 || …`), is never published: the
    // floor that matters is the lowest version of the rest of the range.
    const unreleased = !isReleased(siblingDir) ? version : undefined;
    const sets = range.split('||').map((s) => s.trim());
    const published = sets.filter((s) => s !== unreleased).join(' || ');
    expect(published, `${range} admits some published version`).not.toBe('');
    const lowest = semver.minVersion(published)!.version;
    expect(semver.gte(lowest, needed), `${range} admits ${lowest}, before ${needed}, the first ${sibling} with every API packages/${dir} imports`).toBe(true);
    const admitted = [needed, nextRelease(sibling, version), ...(isReleased(siblingDir) ? [version] : [])];
    for (const v of admitted) expect(semver.satisfies(v, range), `${range} admits ${v}`).toBe(true);
    // Tarballs packed from the repository (all at the unreleased version) install together with
    // a plain `npm install` — a range that starts at the first release alone fails with ERESOLVE.
    if (unreleased !== undefined) expect(semver.satisfies(unreleased, range), `${range} admits the unreleased ${sibling} ${unreleased} that \`pnpm pack\` makes`).toBe(true);
  });
});

/**
 * Brief s53-fxb, item 2: `@steadyfn/backup` peers `mongodb ^7.0.0` while connections, idempotency,
 * lease, outbox and state accept `^6.8.0 || ^7.0.0`. Not a 7-only driver API: backup reads and
 * writes documents with its own `bson` (a dependency, `^7`: Extended JSON both ways), and BSON
 * values cross between it and the driver — the documents a source reads are `EJSON.stringify`d,
 * the ones a restore writes are `EJSON.parse`d and handed to `insertMany`/`deleteMany`. `bson`
 * refuses a value of another major (`BSONVersionError: Unsupported BSON version, bson types must
 * be from bson 6.x.x`, its serializer and EJSON both check `Symbol.for('@@mdb.bson.version')`), and
 * a `mongodb` major bundles the `bson` of its major: with driver 6, every backup of a collection
 * holding an ObjectId and every restore would fail. So the peer stays on the major of the `bson`
 * dependency, and the README says why; widening it needs the driver's own `BSON` instead.
 */
describe('backup peers only the mongodb major of its bson', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'packages/backup/package.json'), 'utf8')) as Manifest & { dependencies: Record<string, string> };
  const driver = JSON.parse(readFileSync(join(root, 'packages/backup/node_modules/mongodb/package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

  it('hands its own bson values to the driver (the reason applies) and its peer admits no other major than its bson', () => {
    const runtime = sources(join(root, 'packages/backup/src')).filter((file) => /^import \{[^}]*\b(EJSON|calculateObjectSize)\b[^}]*\} from 'bson'/m.test(readFileSync(file, 'utf8')));
    expect(runtime.map((file) => file.slice(file.indexOf('src/')))).toEqual(expect.arrayContaining(['src/sources/mongo.ts', 'src/restore/mongo.ts']));
    const bsonMajor = semver.minVersion(manifest.dependencies.bson!)!.major;
    const peer = manifest.peerDependencies!.mongodb!;
    expect(semver.minVersion(peer)!.major, `mongodb ${peer}`).toBe(bsonMajor);
    expect(semver.intersects(peer, `<${bsonMajor}.0.0 || >=${bsonMajor + 1}.0.0`), `mongodb ${peer} admits a major whose bson is not ${bsonMajor}`).toBe(false);
    // The driver bundles the bson of its own major (checked on the one installed).
    expect(semver.minVersion(driver.dependencies.bson!)!.major).toBe(semver.parse(driver.version)!.major);
    expect(semver.satisfies(driver.version, peer)).toBe(true);
  });

  it('the README says why mongodb 6 is not accepted', () => {
    const readme = readFileSync(join(root, 'packages/backup/README.md'), 'utf8');
    expect(readme).toMatch(/`mongodb` ≥ 7/);
    expect(readme).toMatch(/BSONVersionError/);
  });
});

