/**
 * Every ```ts sample of every README of the repository (the top level, each package and its
 * modules, examples, test tooling), read from the README files at test time (so the docs
 * cannot drift), type-checks in a strict consumer project against the BUILT packages
 * resolved by name: `module`/`moduleResolution`
 * `node16` and `bundler`, `strict`, `skipLibCheck: false`, `exactOptionalPropertyTypes: true`.
 *
 * Convention: a ```ts sample is a whole ES module (its own imports; top-level await is
 * fine), written so a user can copy it. A sample that cannot be one is fenced ```ts nocheck
 * and listed in NOCHECK with the reason. Other languages (```sh, ```json) are not checked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsumer, root, strictOptions, type Consumer } from './support/consumer.js';

interface Sample {
  readme: string;
  /** Fenced ```ts nocheck: not compiled (and must be listed in NOCHECK). */
  nocheck: boolean;
  /** 1-based line of the README where the code starts (after the fence). */
  line: number;
  file: string;
  code: string;
}

/** Every README.md of the repository (the top level, packages, their modules, examples, test tooling). */
function findReadmes(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : findReadmes(join(dir, entry.name));
    return entry.name === 'README.md' ? [join(dir, entry.name)] : [];
  });
}
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.services']);
const readmes = findReadmes(root)
  .map((p) => relative(root, p))
  .sort();

/** The ```ts / ```typescript blocks of a README, those marked `nocheck` flagged. */
export function extractSamples(readme: string, text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  const slug = readme.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\b(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end < 0) throw new Error(`${readme}:${i + 1}: unclosed code fence`);
    const code = lines.slice(i + 1, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
    samples.push({ readme, nocheck: /\bnocheck\b/.test(open[3]!), line: i + 2, file: `samples/${slug}-${samples.length + 1}.ts`, code: `${code}\nexport {};\n` });
    i = end;
  }
  return samples;
}

const all = readmes.flatMap((readme) => extractSamples(readme, readFileSync(join(root, readme), 'utf8')));
const samples = all.filter((s) => !s.nocheck);

/**
 * The samples that cannot be a module type-checked here, each with why (keyed by README and
 * the sample's first line). Keep it tiny: a sample that can compile must.
 */
const NOCHECK: ReadonlyArray<{ readme: string; firstLine: string; why: string }> = [
  {
    readme: 'test/services/README.md',
    firstLine: "import { loadServiceEnv, requireService } from '../../test/services/env.js';",
    why: "the repository's own test tooling, imported by a relative path from a test file; no package a user installs",
  },
  {
    readme: 'packages/handler/README.md',
    firstLine: "import { handler } from '@steadyfn/handler';",
    why: "imports aws-kinesis-agg, whose own declarations import the types of aws-sdk v2 (not installed here), so tsc with skipLibCheck false fails inside that package; the option's type is checked by packages/handler/src/events/kinesis-aggregation.test.ts with the real package",
  },
  {
    readme: 'packages/outbox/src/sqs/README.md',
    firstLine: 'sqsSender(options: SqsSenderOptions): SqsSender',
    why: 'an interface listing (signatures without bodies, defaults in comments), not a program; what it lists are the exported types, checked by the build',
  },
];

describe('```ts nocheck samples', () => {
  const firstLine = (s: Sample) => s.code.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  it('are each listed in NOCHECK with the reason they cannot compile', () => {
    const unlisted = all.filter((s) => s.nocheck && !NOCHECK.some((n) => n.readme === s.readme && n.firstLine === firstLine(s)));
    expect(unlisted.map((s) => `${s.readme}:${s.line} ${firstLine(s)}`)).toEqual([]);
  });
  it('are still in their README when listed', () => {
    const gone = NOCHECK.filter((n) => !all.some((s) => s.nocheck && s.readme === n.readme && firstLine(s) === n.firstLine));
    expect(gone).toEqual([]);
  });
});

/**
 * Errors in a third-party package's own declarations that every strict (`skipLibCheck: false`)
 * user of it meets, whatever their code: not ours to fix, and not a reason to leave a sample
 * unchecked. Each must still occur (the list cannot go stale).
 */
const THIRD_PARTY_DIAGNOSTICS: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  {
    pattern: /@middy\/core\/index\.d\.ts\(\d+,\d+\): error TS2307: Cannot find module '@aws\/durable-execution-sdk-js'/,
    why: '@middy/core 7 declarations import its optional peer @aws/durable-execution-sdk-js, which a user of plain middy does not install',
  },
];
const isThirdParty = (d: string) => THIRD_PARTY_DIAGNOSTICS.some((t) => t.pattern.test(d));

// Everything a README sample may import, as a user who installed it would have it (a TypeScript
// user of Powertools or middy installs @types/aws-lambda, as both tell them to).
const PACKAGES = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
const DEPS = ['zod', 'ioredis', 'mongodb', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', 'pg', '@types/pg', '@types/node', '@azure/functions', '@google-cloud/functions-framework', 'pino', '@opentelemetry/api', '@middy/core', '@aws-lambda-powertools/logger', '@types/aws-lambda'];

describe.each(['node16', 'bundler'] as const)('README samples in a strict consumer (%s resolution)', (mode) => {
  let consumer: Consumer;
  let diagnostics: string[] = [];

  beforeAll(() => {
    consumer = makeConsumer(PACKAGES, DEPS);
    for (const sample of samples) consumer.write(sample.file, sample.code);
    consumer.write('tsconfig.json', JSON.stringify({ compilerOptions: strictOptions(mode), include: ['samples/*.ts'] }));
    const result = consumer.tsc('tsconfig.json');
    // One entry per diagnostic: tsc indents the continuation lines of a long message.
    for (const line of result.output.split('\n')) {
      if (line.trim() === '') continue;
      if (/^\s/.test(line) && diagnostics.length > 0) diagnostics[diagnostics.length - 1] += ` ${line.trim()}`;
      else diagnostics.push(line);
    }
    if (!result.ok && diagnostics.length === 0) throw new Error('tsc failed without diagnostics');
  });
  afterAll(() => consumer?.dispose());

  it('finds samples to check', () => {
    expect(samples.length).toBeGreaterThan(10);
  });

  it.each(readmes)('%s', (readme) => {
    // Each diagnostic, pointed back at the README line it comes from.
    const errors: string[] = [];
    for (const sample of samples.filter((s) => s.readme === readme)) {
      for (const d of diagnostics) {
        const m = /^(samples\/[^(]+)\((\d+),(\d+)\): (.*)$/.exec(d);
        if (m?.[1] !== sample.file) continue;
        errors.push(`${readme}:${sample.line + Number(m[2]) - 1}:${m[3]} ${m[4]}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it('reports nothing outside the samples (declarations of the packages themselves)', () => {
    expect(diagnostics.filter((d) => !d.startsWith('samples/') && !isThirdParty(d))).toEqual([]);
  });

  it.each(THIRD_PARTY_DIAGNOSTICS.map((t) => [t.why, t.pattern] as const))('still meets the known third-party declaration error: %s', (_why, pattern) => {
    expect(diagnostics.some((d) => pattern.test(d))).toBe(true);
  });
});
