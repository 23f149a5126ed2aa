/**
 * A real freeze: the function instance is a child process stopped with SIGSTOP between
 * invocations (the kernel keeps receiving packets, the process runs nothing), while the
 * server drops its connection; after SIGCONT the next invocation must succeed. This is the
 * "connected right after a thaw, then ECONNRESET" case of ioredis #1183 / #1865.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { bundleChild } from '../../../test/support/bundle.js';
import { ferretdbAvailable, startFerretDB, startRedis, type OwnServer } from '../../../test/support/servers.js';

interface Answer {
  ok: boolean;
  value?: string;
  code?: string;
  message?: string;
  record?: { state: string; idleMs?: number; reconnects: number; retries: number };
}

let server: OwnServer & { url: string };
let ferret: OwnServer & { uri: string };
let admin: Redis;
let dir: string;
let bundle: string;
let child: ChildProcessWithoutNullStreams;
let answers: Answer[];
let waiting: Array<(a: Answer) => void>;

// The idle threshold of the child; a freeze in these tests lasts longer than this. Between two
// invocations that are not frozen the child must idle less than this to be `reused`: with 200 ms
// a child or test worker descheduled that long on a loaded machine was `revalidated` instead.
const IDLE_MS = 2_000;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { retryStrategy: () => 100 });
  admin.on('error', () => undefined);
  if (!ferretdbAvailable()) throw new Error('FerretDB binary missing: run `bash test/services/services.sh start`');
  ferret = await startFerretDB();
  ({ file: bundle, dir } = bundleChild(new URL('./support/freeze-child.ts', import.meta.url).href));
});

afterAll(async () => {
  admin?.disconnect();
  await server?.dispose();
  await ferret?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts the child; with `deadlineMs`, each of its invocations has a deadline that long after it starts. */
function startChild(kind: 'redis' | 'mongo', idleMs = IDLE_MS, deadlineMs?: number): void {
  answers = [];
  waiting = [];
  child = spawn(process.execPath, [bundle], {
    env: {
      ...process.env,
      CHILD_KIND: kind,
      CHILD_REDIS_URL: server.url,
      CHILD_MONGODB_URI: ferret.uri,
      CHILD_IDLE_MS: String(idleMs),
      ...(deadlineMs === undefined ? {} : { CHILD_DEADLINE_MS: String(deadlineMs) }),
      STEADYFN_LOG_LEVEL: 'info',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as Answer;
    const next = waiting.shift();
    if (next) next(answer);
    else answers.push(answer);
  });
}

afterEach(async () => {
  child.kill('SIGCONT');
  child.stdin.end();
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
});

function invoke(input: string): Promise<Answer> {
  const answer = new Promise<Answer>((resolve) => {
    const ready = answers.shift();
    if (ready) resolve(ready);
    else waiting.push(resolve);
  });
  child.stdin.write(input + '\n');
  return answer;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function childConnectionIds(): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes('name=steadyfn-freeze-child'))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
}

async function pingCalls(): Promise<number> {
  return Number(/^cmdstat_ping:calls=(\d+)/m.exec(await admin.info('commandstats'))?.[1] ?? 0);
}

/** Stops the child, runs `whileFrozen`, keeps it stopped past the idle threshold, resumes it. */
async function freeze(whileFrozen: () => Promise<void>): Promise<void> {
  child.kill('SIGSTOP');
  await whileFrozen();
  await sleep(IDLE_MS + 1_000);
  child.kill('SIGCONT');
}

describe('a frozen and thawed Redis client (SIGSTOP / SIGCONT)', () => {
  beforeEach(() => startChild('redis'));

  it('server killed the connection during the freeze: the next invocation succeeds on a new connection', async () => {
    expect(await invoke('1')).toMatchObject({ ok: true, value: '1', record: { state: 'new' } });
    expect(await invoke('2')).toMatchObject({ ok: true, value: '2', record: { state: 'reused' } });
    const [id] = await childConnectionIds();
    await freeze(async () => {
      await admin.client('KILL', 'ID', id!);
    });
    const after = await invoke('3');
    expect(after).toMatchObject({ ok: true, value: '3', record: { state: 'reconnected', retries: 0 } });
    expect(await childConnectionIds()).not.toContain(id);
  });

  it('redis-server restarted during the freeze: the next invocation succeeds', async () => {
    expect(await invoke('1')).toMatchObject({ ok: true, value: '1' });
    await freeze(async () => {
      await server.stop();
      await server.start();
    });
    expect(await invoke('2')).toMatchObject({ ok: true, value: '2', record: { state: 'reconnected' } });
  });

  it('nothing happened during the freeze: exactly one PING, then the same connection', async () => {
    expect(await invoke('1')).toMatchObject({ ok: true });
    const [id] = await childConnectionIds();
    const pings = await pingCalls();
    await freeze(async () => undefined);
    expect(await invoke('2')).toMatchObject({ ok: true, value: '2', record: { state: 'revalidated' } });
    expect((await pingCalls()) - pings).toBe(1);
    expect(await childConnectionIds()).toEqual([id]);
  });
});

describe('a frozen and thawed MongoDB client (SIGSTOP / SIGCONT)', () => {
  beforeEach(() => startChild('mongo'));

  it('FerretDB restarted during the freeze: the next invocation succeeds', async () => {
    expect(await invoke('1')).toMatchObject({ ok: true, value: '1', record: { state: 'new' } });
    await freeze(async () => {
      await ferret.stop();
      await ferret.start();
    });
    const after = (await invoke('2')) as { ok: boolean; value: string; record: { state: string } };
    expect(after).toMatchObject({ ok: true, value: '2' });
    // The thaw check ran (never a blind `reused`). Which way it went depends on timing: the
    // ping fails and the client is rebuilt, or the driver's pool has already replaced its
    // dead socket and the ping passes on a new one (seen on a loaded machine).
    expect(['reconnected', 'revalidated']).toContain(after.record.state);
    expect(await invoke('3')).toMatchObject({ ok: true, value: '3', record: { state: 'reused' } });
  });

  it('nothing happened during the freeze: one ping, the client is kept', async () => {
    expect(await invoke('1')).toMatchObject({ ok: true });
    await freeze(async () => undefined);
    expect(await invoke('2')).toMatchObject({ ok: true, value: '2', record: { state: 'revalidated' } });
  });
});

describe('a frozen Redis client whose server dropped it in ways the thaw check may not see', () => {
  it('the server\'s own idle `timeout` closed the connection during the freeze: the next invocation succeeds', async () => {
    startChild('redis');
    expect(await invoke('1')).toMatchObject({ ok: true, value: '1' });
    const [id] = await childConnectionIds();
    await admin.config('SET', 'timeout', '1');
    try {
      await freeze(async () => {
        // Redis checks idle clients in its cron: wait until it has closed the child's.
        for (let i = 0; i < 100 && (await childConnectionIds()).includes(id!); i++) await sleep(100);
        expect(await childConnectionIds()).not.toContain(id);
      });
      expect(await invoke('2')).toMatchObject({ ok: true, value: '2', record: { state: 'reconnected' } });
    } finally {
      await admin.config('SET', 'timeout', '0');
    }
  });

  it('a freeze shorter than the idle threshold (no thaw check) while the server killed the connection: the answer is the value or a retryable CONNECTION_LOST, never a hang', async () => {
    // No clock read: each invocation has a 5 s deadline, and a hang would end in the handler's
    // DEADLINE_EXCEEDED answer — the value or CONNECTION_LOST must come before it.
    startChild('redis', 60_000, 5_000);
    expect(await invoke('1')).toMatchObject({ ok: true, value: '1' });
    const [id] = await childConnectionIds();
    await freeze(async () => {
      await admin.client('KILL', 'ID', id!);
    });
    const after = await invoke('2');
    // The command is a write (SET): repeated only when the error proves it was not sent.
    if (!after.ok) expect(after).toMatchObject({ code: 'CONNECTION_LOST' });
    else expect(after).toMatchObject({ value: '2' });
    // Whatever that answer, the next invocation works.
    expect(await invoke('3')).toMatchObject({ ok: true, value: '3' });
  });
});
