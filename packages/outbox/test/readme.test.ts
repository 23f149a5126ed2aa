/**
 * The README's TypeScript samples compile against the package's sources: each ```ts block
 * is written to a file and type-checked with the package's compiler settings.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));

describe('README samples', () => {
  it('type-check', { timeout: 120_000 }, () => {
    const readme = readFileSync(`${pkg}README.md`, 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const dir = `${pkg}test/.readme`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Each sample is its own module; the package is imported by name, resolved to its sources.
    blocks.forEach((code, i) => writeFileSync(`${dir}/sample-${i}.ts`, code.replaceAll("'@steadyfn/outbox'", "'../../src/index.js'")));
    writeFileSync(
      `${dir}/tsconfig.json`,
      JSON.stringify({ extends: '../../../../tsconfig.base.json', compilerOptions: { noEmit: true, rootDir: '../../../..', noUnusedLocals: false }, include: ['*.ts'] }),
    );
    try {
      execFileSync(process.execPath, [`${pkg}../../node_modules/typescript/bin/tsc`, '-p', `${dir}/tsconfig.json`], { cwd: pkg, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      throw new Error(`README samples do not compile:\n${(error as { stdout?: string }).stdout ?? error}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
