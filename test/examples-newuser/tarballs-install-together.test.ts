/**
 * A new user who packs the repository (`pnpm pack`, every package at the unreleased version) and
 * installs the tarballs with a plain `npm install` gets a working install: no `overrides`, no
 * `--legacy-peer-deps`. New-user trial, 2026-12-06: the sibling peer ranges started at the first
 * release (`>=0.1.0 <1`), so npm refused the 0.0.0 handler tarball with ERESOLVE.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { tarballs } from '../support/examples/install.js';

const run = promisify(execFile);

it('every package tarball installs together with plain npm install, and each entry loads (ESM and CJS)', async () => {
  const packs = await tarballs();
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-tarballs-together-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'together', private: true, type: 'module' }));
    const opts = { cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 };
    // The way a user installs files: `npm install <tarball>…` — npm checks every peer range.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...Object.values(packs)], opts);
    const names = Object.keys(packs).sort();
    expect(names).toEqual(expect.arrayContaining(['@steadyfn/handler', '@steadyfn/idempotency', '@steadyfn/outbox']));
    const load = `const names = ${JSON.stringify(names)};
      for (const n of names) { const m = await import(n); if (Object.keys(m).length === 0) throw new Error(n + ' exports nothing'); }
      const { createRequire } = await import('node:module'); const require = createRequire(import.meta.url);
      for (const n of names) { if (Object.keys(require(n)).length === 0) throw new Error(n + ' (require) exports nothing'); }
      console.log('loaded ' + names.length);`;
    writeFileSync(join(dir, 'load.mjs'), load);
    const { stdout } = await run(process.execPath, ['load.mjs'], opts);
    expect(stdout.trim()).toBe(`loaded ${names.length}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 360_000);
