/**
 * SIGTERM in a real child process: the plugin closes the Redis client politely (QUIT,
 * counted by the server), then the process still ends by SIGTERM, as it would without us.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { bundleChild } from '../../../test/support/bundle.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';

let server: OwnServer & { url: string };
let admin: Redis;
let dir: string;
let bundle: string;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
  ({ file: bundle, dir } = bundleChild(new URL('./support/sigterm-child.ts', import.meta.url).href));
});

afterAll(async () => {
  admin?.disconnect();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function quitCalls(): Promise<number> {
  const match = /^cmdstat_quit:calls=(\d+)/m.exec(await admin.info('commandstats'));
  return match ? Number(match[1]) : 0;
}

describe('closeOnSigterm', () => {
  it('closes clients on SIGTERM, then the process ends by that signal', async () => {
    const quitsBefore = await quitCalls();
    const child = spawn(process.execPath, [bundle], {
      env: { ...process.env, CHILD_REDIS_URL: server.url, AWS_LAMBDA_FUNCTION_NAME: 'sigterm-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      void exited.then(() => reject(new Error(`child exited before ready: ${stderr.slice(0, 500)}`)));
    });
    const list = (await admin.client('LIST')) as string;
    expect(list).toContain('name=steadyfn-sigterm-child');

    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect((await quitCalls()) - quitsBefore).toBe(1);
  });
});
