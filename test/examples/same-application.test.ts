/**
 * The four provider examples are one application: a user copies one folder, so each holds its
 * own copy of orders/, and these checks keep the copies from drifting apart — the same files in
 * the ES module examples, the same code (in CommonJS syntax) in OpenWhisk's, the same imports,
 * and the same published dependency ranges. That they also behave the same on their providers
 * is what test/examples/<provider>.test.ts and the demo (examples/demo) check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { root } from '../support/consumer.js';

const read = (example: string, file: string) => readFileSync(join(root, 'examples', example, file), 'utf8');
const ESM = ['aws-lambda', 'gcp-functions', 'azure-functions'];
const SHARED = ['orders/app', 'orders/handlers', 'orders/workflow'];

/** `{ module: [names…] }` of a file's imports, ESM `import { … } from` or CJS `const { … } = require(…)`, with `.mjs` read as `.js`. */
function importsOf(source: string): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const m of source.matchAll(/^(?:import \{([^}]*)\} from|const \{([^}]*)\} = require\() ?'([^']+)'\)?;$/gm)) {
    found[m[3]!.replace(/\.mjs$/, '.js')] = (m[1] ?? m[2]!).split(',').map((s) => s.trim()).filter(Boolean).sort();
  }
  return found;
}

/** The code without its module syntax: no imports/requires, no `export ` prefixes, no `module.exports`, no 'use strict'. */
function bodyOf(source: string): string {
  return source
    .split('\n')
    .filter((line) => !/^(import .* from '[^']+';|const \{[^}]*\} = require\('[^']+'\);|'use strict';|module\.exports = .*;)$/.test(line))
    .map((line) => line.replace(/^export (const|async function|function) /, '$1 '))
    .join('\n')
    .trim();
}

describe('the provider examples are one application', () => {
  it.each(SHARED)('%s is the same file in every ES module example', (file) => {
    const [first, ...rest] = ESM.map((e) => read(e, `${file}.mjs`));
    for (const [i, text] of rest.entries()) expect(text, `examples/${ESM[i + 1]}/${file}.mjs differs from examples/aws-lambda's`).toBe(first);
  });

  it('the SQS pull consumer is the same file for Cloud Functions and Azure Functions', () => {
    expect(read('azure-functions', 'orders/sqs-pull.mjs')).toBe(read('gcp-functions', 'orders/sqs-pull.mjs'));
  });

  it.each([...SHARED, 'orders/sqs-pull'])('OpenWhisk’s %s.js is the same code in CommonJS', (file) => {
    const esm = read(file === 'orders/sqs-pull' ? 'gcp-functions' : 'aws-lambda', `${file}.mjs`);
    const cjs = read('openwhisk', `${file}.js`);
    expect(importsOf(cjs)).toEqual(importsOf(esm));
    expect(bodyOf(esm).length).toBeGreaterThan(500);
    expect(bodyOf(cjs)).toBe(bodyOf(esm));
  });

  it('every example names the same published ranges of the same packages', () => {
    const manifests = [...ESM, 'openwhisk', 'glue'].map((e) => ({ e, deps: JSON.parse(read(e, 'package.json')).dependencies as Record<string, string> }));
    const ranges = new Map<string, Set<string>>();
    for (const { e, deps } of manifests) {
      for (const [name, range] of Object.entries(deps)) {
        expect(range, `examples/${e}: ${name}`).toMatch(/^\^\d+\.\d+\.\d+$/);
        if (!ranges.has(name)) ranges.set(name, new Set());
        ranges.get(name)!.add(range);
      }
    }
    for (const [name, set] of ranges) expect([...set], `${name} has different ranges across the examples`).toHaveLength(1);
    const steady = (deps: Record<string, string>) => Object.keys(deps).filter((d) => d.startsWith('@steadyfn/')).sort();
    for (const { e, deps } of manifests.slice(1, 4)) expect(steady(deps), e).toEqual(steady(manifests[0]!.deps));
  });

  it('names ranges that the next release of each package satisfies (its version after the pending changesets)', () => {
    const bumps = new Map<string, 'major' | 'minor' | 'patch'>();
    const order = ['patch', 'minor', 'major'] as const;
    for (const file of readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(root, '.changeset', file), 'utf8'))?.[1] ?? '';
      for (const m of front.matchAll(/^['"]?(@steadyfn\/[\w-]+)['"]?: (major|minor|patch)$/gm)) {
        const [name, bump] = [m[1]!, m[2] as 'major' | 'minor' | 'patch'];
        if (order.indexOf(bump) > order.indexOf(bumps.get(name) ?? 'patch') || !bumps.has(name)) bumps.set(name, bump);
      }
    }
    for (const e of [...ESM, 'openwhisk', 'glue']) {
      for (const [name, range] of Object.entries(JSON.parse(read(e, 'package.json')).dependencies as Record<string, string>)) {
        if (!name.startsWith('@steadyfn/')) continue;
        const current = JSON.parse(readFileSync(join(root, 'packages', name.slice('@steadyfn/'.length), 'package.json'), 'utf8')).version as string;
        const next = bumps.has(name) ? semver.inc(current, bumps.get(name)!)! : current;
        expect(semver.satisfies(next, range), `examples/${e}: ${name} ${range} does not match its next release ${next}`).toBe(true);
      }
    }
  });
});
