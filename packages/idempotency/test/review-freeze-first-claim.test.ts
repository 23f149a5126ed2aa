/**
 * The first idempotent invocation after a Lambda-style freeze (SIGSTOP, shorter than the idle
 * threshold: no thaw check) during which the store server dropped the instance's connections.
 * Set up as the READMEs write it: a `@steadyfn/connections` handle and the idempotency store on a
 * getter of its client. The next invocation arrives while the instance is frozen, as Lambda hands
 * it over at the thaw.
 *
 * Before: the first claim answered `503 IDEMPOTENCY_STORE_UNAVAILABLE` and only the next one 200.
 * Redis: ioredis still said `ready` while its socket was half closed (the server's FIN read), so
 * the handle gave that client out and the claim failed `Stream isn't writeable…` — provably never
 * sent, yet not sent again. MongoDB (FerretDB behind a proxy whose sockets are destroyed during
 * the freeze): the claim's first read died on a dead pooled socket; the driver does not retry it
 * on a standalone. Now a claim that wrote nothing is sent once more on the getter's client of
 * then (the Redis handle sees the half-closed socket and rebuilds; the MongoDB driver has cleared
 * its pool), and the first invocation answers 200.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';
import { httpEvent } from './support.js';

interface Answer {
  status: number;
  body: string;
}

let dir: string;
let bundle: string;
let child: ChildProcessWithoutNullStreams | undefined;
let waiting: Array<(a: Answer) => void> = [];

beforeAll(() => {
  ({ file: bundle, dir } = bundleChild(new URL('./freeze-claim-child.ts', import.meta.url).href));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  const c = child;
  child = undefined;
  if (!c || c.exitCode !== null) return;
  c.kill('SIGCONT');
  c.stdin.end();
  await new Promise((resolve) => c.once('exit', resolve));
});

function startChild(env: Record<string, string>): void {
  waiting = [];
  const c = spawn(process.execPath, [bundle], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  createInterface({ input: c.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as Answer));
  c.stderr.on('data', (d) => process.stderr.write(d));
  child = c;
}

/** Sends one invocation; its answer comes when the child runs (after a thaw, if frozen). */
function invoke(key: string): Promise<Answer> {
  const answer = new Promise<Answer>((resolve) => waiting.push(resolve));
  child!.stdin.write(JSON.stringify(httpEvent({ key, body: { key } })) + '\n');
  return answer;
}

/** Whether every thread of the child is stopped (state `T` in /proc/<pid>/task/<tid>/stat). */
function stopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
  });
}

/** SIGSTOPs the child and waits until it is stopped, runs `whileFrozen`, sends `key`, then SIGCONT. */
async function frozenInvoke(whileFrozen: () => Promise<void>, key: string): Promise<Answer> {
  const c = child!;
  c.kill('SIGSTOP');
  await eventually(() => stopped(c.pid!), 5_000, 10);
  await whileFrozen();
  // Handed over while frozen: read at the thaw, with whatever the sockets got meanwhile.
  const answer = invoke(key);
  c.kill('SIGCONT');
  return answer;
}

describe('first claim after a freeze whose server dropped the connections (SIGSTOP / SIGCONT)', () => {
  it('Redis, redisStore on a connections getter, redis-server restarted during the freeze: 200 at once', async () => {
    const server: OwnServer & { url: string } = await startRedis();
    try {
      startChild({ CHILD_KIND: 'redis', CHILD_REDIS_URL: server.url, CHILD_PREFIX: `freeze-${randomUUID()}` });
      expect(await invoke(randomUUID())).toMatchObject({ status: 200 });
      const answer = await frozenInvoke(async () => {
        await server.stop();
        await server.start();
      }, randomUUID());
      expect(answer, answer.body).toMatchObject({ status: 200 });
      expect(JSON.parse(answer.body)).toHaveProperty('ran');
    } finally {
      await server.dispose();
    }
  }, 60_000);

  it('MongoDB (FerretDB), mongoStore on a connections getter, sockets destroyed by a proxy during the freeze: 200 at once', async () => {
    await requireService('mongodb');
    const target = new URL(process.env.MONGODB_URI!);
    const proxy = await dropProxy(target.hostname, Number(target.port));
    const collection = `freeze_${randomUUID().replaceAll('-', '')}`;
    try {
      startChild({ CHILD_KIND: 'mongo', CHILD_MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true`, CHILD_COLLECTION: collection });
      expect(await invoke(randomUUID())).toMatchObject({ status: 200 });
      expect(proxy.open()).toBeGreaterThan(0);
      const answer = await frozenInvoke(async () => proxy.drop(), randomUUID());
      expect(answer, answer.body).toMatchObject({ status: 200 });
      expect(JSON.parse(answer.body)).toHaveProperty('ran');
    } finally {
      await proxy.close();
      const admin = new MongoClient(process.env.MONGODB_URI!);
      await admin.db('steadyfn_freeze_claim').collection(collection).drop().catch(() => undefined);
      await admin.close();
    }
  }, 60_000);
});

/** A TCP proxy whose `drop()` destroys every connection through it (the server's side gone), while it keeps accepting new ones. */
async function dropProxy(host: string, port: number): Promise<{ port: number; open(): number; drop(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host, port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const drop = async (): Promise<void> => {
    const all = [...sockets];
    for (const s of all) s.destroy();
    await eventually(() => all.every((s) => s.destroyed && !sockets.has(s)), 5_000, 10);
  };
  return {
    port: (server.address() as { port: number }).port,
    open: () => sockets.size,
    drop,
    async close() {
      await drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
