/**
 * How a bundled function meets a driver it cannot use, in a real esbuild bundle run by a
 * separate `node` process from a directory with no node_modules:
 * - an ESM bundle without `require` cannot load ioredis (CommonJS): the first request fails
 *   with the terminal CONNECTION_DRIVER_LOAD_FAILED, and the log says why
 *   (`Dynamic require of "events" is not supported`) instead of only `"cause":"Error"`;
 *   the createRequire banner fixes it;
 * - `mongodb` left out of the bundle and not installed: the terminal CONNECTION_DRIVER_MISSING,
 *   naming the package to install (it used to be a retryable 503 that queues redeliver forever).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { bundleChild, type BundleOptions } from '../../../test/support/bundle.js';

interface ChildResult {
  http: { statusCode: number; body: string };
  direct: { ok?: true; code?: string; retryable?: boolean; message?: string };
  lines: string[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function build(entry: string, options: BundleOptions): string {
  const { file, dir } = bundleChild(new URL(entry, new URL('./support/', import.meta.url)).href, options);
  dirs.push(dir);
  return file;
}

function run(file: string): ChildResult {
  const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, STEADYFN_LOG_LEVEL: 'info' } });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

function logged(result: ChildResult, msg: string): Array<Record<string, unknown>> {
  return result.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
}

describe('a Redis-only function bundled with esbuild', () => {
  it('holds ioredis and no other driver', () => {
    const file = build('./redis-function.ts', { format: 'esm', banner: true });
    const code = readFileSync(file, 'utf8');
    expect(code).toContain('ioredis');
    for (const other of ['node_modules/mongodb/', 'node_modules/@aws-sdk/client-s3/', 'node_modules/@aws-sdk/client-sqs/']) expect(code).not.toContain(other);
  });

  it('ESM without require: the first request fails with the terminal CONNECTION_DRIVER_LOAD_FAILED, and the log gives the real cause', () => {
    const result = run(build('./redis-function.ts', { format: 'esm' }));
    expect(result.http.statusCode).toBe(500);
    expect(JSON.parse(result.http.body)).toMatchObject({ code: 'CONNECTION_DRIVER_LOAD_FAILED' });
    expect(result.direct).toMatchObject({ code: 'CONNECTION_DRIVER_LOAD_FAILED', retryable: false });
    const [why] = logged(result, 'connections: client cannot be created');
    expect(why).toMatchObject({ level: 'error', client: 'redis', code: 'CONNECTION_DRIVER_LOAD_FAILED' });
    expect(why!.reason).toContain('Dynamic require of "events" is not supported');
    expect(why!.reason).toContain('createRequire');
    expect(logged(result, 'invocation failed')[0]).toMatchObject({ code: 'CONNECTION_DRIVER_LOAD_FAILED', retryable: false });
  });

  it('ESM with the createRequire banner, and CJS: answers', async () => {
    await requireService('redis');
    for (const options of [{ format: 'esm', banner: true }, { format: 'cjs' }] as const) {
      const result = run(build('./redis-function.ts', options));
      expect(result.http.statusCode, JSON.stringify(result.lines)).toBe(200);
      expect(JSON.parse(result.http.body)).toEqual({ pong: 'PONG' });
      expect(result.direct).toEqual({ ok: true });
    }
  });
});

describe.each(['esm', 'cjs'] as const)('mongo() with mongodb not installed (%s bundle, mongodb external)', (format) => {
  it('fails with the terminal CONNECTION_DRIVER_MISSING naming the package, not a retryable 503', () => {
    const result = run(build('./mongo-function.ts', { format, banner: format === 'esm', external: ['mongodb'] }));
    expect(result.http.statusCode).toBe(500);
    const body = JSON.parse(result.http.body) as { code: string; errors?: unknown; detail?: unknown };
    expect(body.code).toBe('CONNECTION_DRIVER_MISSING');
    // The caller learns the code only; what to install is for the operator, in the log.
    expect(body.errors).toBeUndefined();
    expect(body.detail).toBeUndefined();
    expect(result.direct).toMatchObject({ code: 'CONNECTION_DRIVER_MISSING', retryable: false });
    const [why] = logged(result, 'connections: client cannot be created');
    expect(why).toMatchObject({ client: 'mongo', code: 'CONNECTION_DRIVER_MISSING' });
    expect(why!.reason).toContain('"mongodb" package is not installed');
    expect(why!.reason).toContain('npm install mongodb');
  });
});
