/**
 * The versions of the workspace's packages as users will meet them: the current one when the
 * package has been released (it has a CHANGELOG.md, which `changeset version` writes), and the
 * one its pending changesets release. Read from the files, without running changesets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUMPS = ['patch', 'minor', 'major'] as const;

/** The largest bump the pending changesets (`.changeset/*.md`) give package `name`, if any. */
export function pendingBump(name: string): (typeof BUMPS)[number] | undefined {
  let found = -1;
  for (const file of readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const front = readFileSync(join(root, '.changeset', file), 'utf8').split(/^---$/m)[1] ?? '';
    const match = new RegExp(`^['"]${name.replace(/[/]/g, '\\/')}['"]: (major|minor|patch)$`, 'm').exec(front);
    if (match) found = Math.max(found, BUMPS.indexOf(match[1] as (typeof BUMPS)[number]));
  }
  return found < 0 ? undefined : BUMPS[found];
}

/** Whether the package in `packages/<dir>` has been released: `changeset version` wrote its CHANGELOG.md. */
export function isReleased(dir: string): boolean {
  return existsSync(join(root, 'packages', dir, 'CHANGELOG.md'));
}

/** The version of package `name` (at `version` now) once its pending changesets are released. */
export function nextRelease(name: string, version: string): string {
  const bump = pendingBump(name);
  return bump === undefined ? version : semver.inc(version, bump)!;
}

/** The oldest version of the package a user can install: its first release (the lowest `## x.y.z` of its CHANGELOG.md), or, never released, the one its pending changesets release. */
export function firstRelease(dir: string, name: string, version: string): string {
  if (!isReleased(dir)) return nextRelease(name, version);
  const headings = [...readFileSync(join(root, 'packages', dir, 'CHANGELOG.md'), 'utf8').matchAll(/^## (\d+\.\d+\.\d+\S*)$/gm)].map((m) => m[1]!);
  return headings.sort(semver.compare)[0] ?? version;
}
