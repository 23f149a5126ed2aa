/**
 * What users install: every package's build must load through `import` and `require`,
 * ship types for both, and expose the same names either way. Runs on the built dist/,
 * resolved by package name as a consumer would (no source aliases).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsumer, strictOptions, type Consumer } from './support/consumer.js';
import { DRIVER_OF_ENTRY } from './support/entries.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(`${root}packages`).filter((d) => existsSync(`${root}packages/${d}/package.json`));

interface Manifest {
  name: string;
  sideEffects?: boolean;
  engines?: { node?: string };
  exports: Record<string, unknown>;
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  files?: string[];
}

type Entry = { import: { types: string; default: string }; require: { types: string; default: string } };

/** Every entry a package exports (`.` and subpaths such as `./redis`), without `./package.json`. */
function entriesOf(manifest: Manifest): Array<[string, Entry]> {
  return Object.entries(manifest.exports).filter(([path]) => path !== './package.json') as Array<[string, Entry]>;
}

describe.each(packages)('package %s', (dir) => {
  const pkgDir = `${root}packages/${dir}`;
  const manifest = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as Manifest;

  it('declares a consumer-ready manifest', () => {
    expect(manifest.sideEffects).toBe(false);
    // Node.js 22.12: the first that loads an ES module through require() unflagged, which the
    // CommonJS builds do for ESM-only dependencies (see the next test); it also has
    // process.getBuiltinModule (22.3), how node:crypto is loaded without Web Crypto.
    expect(manifest.engines?.node).toBe('>=22.12');
    expect(manifest.files).toContain('dist');
    for (const sdk of ['ioredis', 'mongodb', '@aws-sdk/client-s3', '@aws-sdk/client-sqs']) {
      expect(manifest.dependencies?.[sdk], `${sdk} must be a peer dependency`).toBeUndefined();
    }
    expect(existsSync(`${pkgDir}/README.md`)).toBe(true);
  });

  it('declares a Node.js whose require() loads the ESM-only dependencies its CommonJS build requires', () => {
    const required = new Set<string>();
    for (const file of readdirSync(`${pkgDir}/dist`).filter((f) => f.endsWith('.cjs'))) {
      for (const [, spec] of readFileSync(`${pkgDir}/dist/${file}`, 'utf8').matchAll(/require\(["']([^"'.][^"']*)["']\)/g)) {
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        if (existsSync(`${pkgDir}/node_modules/${name}/package.json`)) required.add(name);
      }
    }
    const esmOnly = [...required].filter((name) => {
      const dep = JSON.parse(readFileSync(`${pkgDir}/node_modules/${name}/package.json`, 'utf8')) as { type?: string; main?: string; exports?: unknown };
      return dep.type === 'module' && !JSON.stringify(dep.exports ?? {}).includes('"require"') && !(dep.main ?? '').endsWith('.cjs');
    });
    // require(esm) needs Node.js 22.12 (unflagged there); before it these builds throw ERR_REQUIRE_ESM.
    if (esmOnly.length > 0) expect(manifest.engines?.node, `${manifest.name} requires ESM-only ${esmOnly.join(', ')}`).toMatch(/^>=22\.(1[2-9]|[2-9]\d)/);
  });

  it('builds ESM, CJS and types for both, for every entry', () => {
    for (const [, entry] of entriesOf(manifest)) {
      for (const file of [entry.import.default, entry.import.types, entry.require.default, entry.require.types]) {
        expect(existsSync(`${pkgDir}/${file}`), `${manifest.name}: ${file} (run \`npm run build\`)`).toBe(true);
      }
    }
  });

  it.each(entriesOf(manifest).map(([path]) => path))('entry %s loads by name through import and require with the same exports', (path) => {
    const specifier = path === '.' ? manifest.name : `${manifest.name}/${path.slice(2)}`;
    // A separate Node process resolves the package the way a user's code does.
    const script = `
      const { createRequire } = require('node:module');
      const req = createRequire(${JSON.stringify(`${pkgDir}/package.json`)});
      const cjs = req(${JSON.stringify(specifier)});
      import(req.resolve(${JSON.stringify(specifier)}).replace(/\\.cjs$/, '.js')).then((esm) => {
        console.log(JSON.stringify({ cjs: Object.keys(cjs).sort(), esm: Object.keys(esm).sort() }));
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: pkgDir, encoding: 'utf8' })) as { cjs: string[]; esm: string[] };
    expect(out.cjs.length).toBeGreaterThan(0);
    expect(out.esm).toEqual(out.cjs);
  });
});

/** The declaration files an entry's types pull in: the entry and the chunks it imports, transitively. */
function declarationClosure(pkgDir: string, types: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(`${pkgDir}/dist/${file}`, 'utf8');
    for (const m of text.matchAll(/from ['"]\.\/([^'"]+)\.(c?)js['"]/g)) visit(`${m[1]}.d.${m[2] === 'c' ? 'cts' : 'ts'}`);
  };
  visit(types.replace(/^\.\/dist\//, ''));
  return [...seen];
}

// A user of one store must not need another store's driver types (with skipLibCheck: false).
describe.each(packages)('package %s types', (dir) => {
  const pkgDir = `${root}packages/${dir}`;
  const manifest = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as Manifest & { peerDependenciesMeta?: Record<string, unknown> };
  it.each(entriesOf(manifest).map(([path]) => path))('entry %s imports no optional driver but its own', (path) => {
    const specifier = path === '.' ? manifest.name : `${manifest.name}/${path.slice(2)}`;
    const [, entry] = entriesOf(manifest).find(([p]) => p === path)!;
    for (const types of [entry.import.types, entry.require.types]) {
      for (const file of declarationClosure(pkgDir, types)) {
        // Comments left out: a TSDoc @example may show the user importing a driver; only the
        // declarations' own imports make a consumer need its types.
        const declarations = readFileSync(`${pkgDir}/dist/${file}`, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
        for (const driver of Object.keys(manifest.peerDependenciesMeta ?? {})) {
          if (DRIVER_OF_ENTRY[specifier] === driver) continue;
          expect(declarations, `${specifier} types (${file}) import ${driver}`).not.toMatch(new RegExp(`from ['"]${driver.replace('/', '\\/')}['"]`));
        }
      }
    }
  });
});

// The proof, as a user meets it: a strict project with only ioredis installed type-checks
// @steadyfn/connections and its Redis entry without skipLibCheck.
describe.each(['node16', 'bundler'] as const)('a strict consumer with only ioredis installed (%s resolution, skipLibCheck: false)', (mode) => {
  let consumer: Consumer;
  beforeAll(() => {
    consumer = makeConsumer(['handler', 'connections'], ['ioredis', 'zod', '@types/node']);
    consumer.write(
      'redis-only.ts',
      [
        "import { handler } from '@steadyfn/handler';",
        "import { closeAll, connections, defineClient, type ClientHandle } from '@steadyfn/connections';",
        "import { redis, type RedisHandle } from '@steadyfn/connections/redis';",
        'const cache: RedisHandle = redis({ url: process.env.REDIS_URL, idleThresholdMs: 5_000 });',
        "const other: ClientHandle<{ ok: true }> = defineClient({ name: 'other', create: () => ({ ok: true as const }) });",
        'export const main = handler({ use: [connections({ redis: cache, other })] }, async (_input, ctx) => {',
        "  const value: string | null = await ctx.redis.get('k');",
        '  return { value, ok: ctx.other.ok };',
        '});',
        'export const reset = closeAll;',
        '',
      ].join('\n'),
    );
    consumer.write('mongo.ts', "import { mongo } from '@steadyfn/connections/mongodb';\nexport const store = mongo();\n");
    const options = strictOptions(mode);
    consumer.write('tsconfig.redis.json', JSON.stringify({ compilerOptions: options, files: ['redis-only.ts'] }));
    consumer.write('tsconfig.mongo.json', JSON.stringify({ compilerOptions: options, files: ['mongo.ts'] }));
  });
  afterAll(() => consumer?.dispose());

  it('type-checks the root and the Redis entry', () => {
    const result = consumer.tsc('tsconfig.redis.json');
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('the MongoDB entry, whose driver is absent, does not (the check can fail)', () => {
    const result = consumer.tsc('tsconfig.mongo.json');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/Cannot find module 'mongodb'/);
  });
});
