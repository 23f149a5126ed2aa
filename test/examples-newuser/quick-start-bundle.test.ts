/**
 * The root README's quick start, bundled the way its text says, in a project that holds only
 * what its `npm install` commands install (packed tarballs, plain npm, outside the workspace).
 * The quick start installs no S3 SDK, and esbuild refuses an `import()` it cannot resolve: the
 * README's bundle command — no `--external` — must build there (the S3 stores of
 * `@steadyfn/lease` and `@steadyfn/state` are in their `/s3` entries, which the sample does not
 * import), and the bundle must run the sample against Redis.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { root } from '../support/consumer.js';
import { tarballs } from '../support/examples/install.js';

const run = promisify(execFile);
const readme = readFileSync(join(root, 'README.md'), 'utf8');

it('root README quick start: the bundle command it gives builds with only what it installs, and the bundle runs', async () => {
  const start = readme.indexOf('```ts\n');
  const code = readme.slice(start + 6, readme.indexOf('\n```', start + 6));
  const section = readme.slice(0, readme.indexOf('\n## ', start));
  const installs = [...section.matchAll(/npm install ((?:@steadyfn\/handler @steadyfn\/idempotency)[^`\n]*)/g)].map((m) => m[1]!.split(/\s+/));
  expect(installs.length, 'the quick start names its npm install').toBe(1);
  const bundle = /\nnpx (esbuild index\.ts [^\n]+)/.exec(section.slice(start))?.[1];
  expect(bundle, 'the quick start gives an esbuild command after its sample').toBeDefined();
  expect(bundle, 'the quick start needs no --external (the S3 SDK is reached only from the /s3 entries)').not.toMatch(/--external/);

  const packs = await tarballs();
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-quick-start-'));
  try {
    const dependencies: Record<string, string> = {};
    for (const name of installs[0]!) dependencies[name] = name.startsWith('@steadyfn/') ? `file:${packs[name]}` : 'latest';
    const overrides = Object.fromEntries(Object.entries(packs).map(([pkg, file]) => [pkg, dependencies[pkg] ? `$${pkg}` : `file:${file}`]));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'quick-start', private: true, type: 'module', dependencies, devDependencies: { esbuild: '^0.28.2' }, overrides }));
    writeFileSync(join(dir, 'index.ts'), code);
    const opts = { cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 };
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], opts);
    await run('npx', bundle!.split(/\s+/), opts); // rejects with esbuild's "Could not resolve" when the command does not build
    const prefix = `quick-${Math.random().toString(36).slice(2, 10)}`;
    const call = `require('./dist/index.cjs').main({ orderId: '${prefix}', amountCents: 5 }, { awsRequestId: 'r-1', functionName: 'f', getRemainingTimeInMillis: () => 30000 }).then((r) => { console.log(JSON.stringify(r)); process.exit(0); })`;
    const { stdout } = await run(process.execPath, ['-e', call], { ...opts, env: { ...opts.env, SHOP_CURRENCY: 'EUR' } });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ orderId: prefix, currency: 'EUR' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
