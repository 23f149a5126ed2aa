/**
 * Every ```ts sample of the top-level README and of every package README, read from the
 * README files at test time (so the docs cannot drift), type-checks in a strict consumer
 * project against the BUILT packages resolved by name: `module`/`moduleResolution`
 * `node16` and `bundler`, `strict`, `skipLibCheck: false`, `exactOptionalPropertyTypes: true`.
 *
 * Convention: a ```ts sample is a whole ES module (its own imports; top-level await is
 * fine). A sample that cannot be one is fenced ```ts nocheck — keep those rare. Other
 * languages (```sh, ```json) are not checked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsumer, root, strictOptions, type Consumer } from './support/consumer.js';

interface Sample {
  readme: string;
  /** 1-based line of the README where the code starts (after the fence). */
  line: number;
  file: string;
  code: string;
}

const readmes = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'packages'))
    .map((d) => join(root, 'packages', d, 'README.md'))
    .filter((p) => existsSync(p)),
].map((p) => relative(root, p));

/** The ```ts / ```typescript blocks of a README, without those marked `nocheck`. */
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
    if (!/\bnocheck\b/.test(open[3]!)) {
      const code = lines.slice(i + 1, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
      samples.push({ readme, line: i + 2, file: `samples/${slug}-${samples.length + 1}.ts`, code: `${code}\nexport {};\n` });
    }
    i = end;
  }
  return samples;
}

const samples = readmes.flatMap((readme) => extractSamples(readme, readFileSync(join(root, readme), 'utf8')));

/**
 * READMEs written before this check existed, whose owners have not yet turned their samples
 * into whole modules: how many samples fail (the same under both resolutions). A README not
 * listed must have none; the numbers can only go down.
 */
const KNOWN_BROKEN: Record<string, { samples: number; why: string }> = {
  'packages/handler/README.md': { samples: 5, why: 'fragments without imports; owned by the handler package' },
  'packages/idempotency/README.md': { samples: 3, why: 'fragments without imports; owned by the idempotency package' },
  'packages/state/README.md': { samples: 2, why: 'fragments without imports, and an EventStore<Doc, number> given where EventStore<Doc, string> is declared; owned by the state package' },
};

// Everything a README sample may import, as a user who installed it would have it.
const PACKAGES = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
const DEPS = ['zod', 'ioredis', 'mongodb', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', 'pg', '@types/pg', '@types/node', '@azure/functions', '@google-cloud/functions-framework', 'pino', '@opentelemetry/api'];

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
    const failing = new Set<number>();
    for (const sample of samples.filter((s) => s.readme === readme)) {
      for (const d of diagnostics) {
        const m = /^(samples\/[^(]+)\((\d+),(\d+)\): (.*)$/.exec(d);
        if (m?.[1] !== sample.file) continue;
        errors.push(`${readme}:${sample.line + Number(m[2]) - 1}:${m[3]} ${m[4]}`);
        failing.add(sample.line);
      }
    }
    const known = KNOWN_BROKEN[readme];
    if (!known) {
      expect(errors).toEqual([]);
      return;
    }
    // Tracked debt, shown on every run: the count may only go down, and must be updated when it does.
    console.warn(`[readme-samples] ${readme}: ${failing.size} sample(s) do not compile yet (${known.why}):\n  ${errors.join('\n  ')}`);
    expect(failing.size, `${readme}: update KNOWN_BROKEN (now ${failing.size} failing samples)`).toBe(known.samples);
  });

  it('reports nothing outside the samples (declarations of the packages themselves)', () => {
    expect(diagnostics.filter((d) => !d.startsWith('samples/'))).toEqual([]);
  });
});
