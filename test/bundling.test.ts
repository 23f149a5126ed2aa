/**
 * Every provider example, bundled with esbuild as a user deploys it — ESM (with the
 * createRequire banner) and CommonJS — from the BUILT packages resolved by name, holds
 * ioredis and no driver it does not use, and answers correctly when its provider's runtime
 * runs it from a directory with no node_modules but the provider's own package:
 *
 * - AWS Lambda: the real runtime interface client (`aws-lambda-ric`) loads the bundle as
 *   `index.main` and talks to a Runtime API on loopback (HTTP API event, SQS batch);
 * - Google Cloud Functions: the Functions Framework CLI serves the bundle (`--target`), over HTTP
 *   and as a Pub/Sub CloudEvent (the framework is external: functions register with the
 *   instance that serves them);
 * - Azure Functions: a `node` process loads the bundle and calls it with `@azure/functions`
 *   objects, as the worker does (external, for the same reason);
 * - Apache OpenWhisk: a `node` process loads the action and calls `main(params)` with the
 *   documented web-action and activation contract.
 *
 * Each accepted order is counted in the shared Redis (`HINCRBY steadyfn:example:accepted`),
 * so the bundled driver is proven to work, not only to be present.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeApi } from '../packages/handler/test/runtimes/lambda/runtime-api.js';
import { requireService } from './services/env.js';
import { freePort } from '../packages/connections/test/support/servers.js';
import { installedDir, root } from './support/consumer.js';
import { apiGatewayV2, pubsubCloudEvent, sqsRecord } from './support/events.js';

type Format = 'esm' | 'cjs';
type Json = Record<string, any>;

const BANNER = "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);";
const run = randomUUID().slice(0, 8);
const sku = (format: Format, provider: string) => `bundle-${run}-${provider}-${format}`;
const dirs: string[] = [];
let redis: Redis;

beforeAll(async () => {
  await requireService('redis');
  redis = new Redis(process.env.REDIS_URL!);
});

afterAll(async () => {
  await redis?.hdel('steadyfn:example:accepted', ...['aws', 'gcp', 'azure', 'openwhisk'].flatMap((p) => [sku('esm', p), sku('cjs', p)]));
  redis?.disconnect();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Bundle {
  dir: string;
  file: string;
  /** The files esbuild put in the bundle, relative to the repository root. */
  inputs: string[];
}

/** Bundles `examples/<example>/<entry>` into a fresh directory holding only `external` in node_modules. */
function bundle(example: string, entry: string, format: Format, outName: string, external: string[] = []): Bundle {
  const dir = mkdtempSync(join(tmpdir(), `steadyfn-bundle-${example}-`));
  dirs.push(dir);
  const file = join(dir, outName);
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [join(root, 'examples', example, entry)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format,
    external,
    ...(format === 'esm' ? { banner: { js: BANNER } } : {}),
    metafile: true,
    logLevel: 'error',
    outfile: file,
  });
  for (const name of external) {
    const to = join(dir, 'node_modules', name);
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(installedDir(name), to, 'dir');
  }
  return { dir, file, inputs: Object.keys(result.metafile!.inputs) };
}

function expectOnlyRedis(b: Bundle): void {
  expect(b.inputs.some((i) => i.includes('/node_modules/ioredis/'))).toBe(true);
  for (const driver of ['/node_modules/mongodb/', '/node_modules/@aws-sdk/client-s3/', '/node_modules/@aws-sdk/client-sqs/']) {
    expect(b.inputs.filter((i) => i.includes(driver)), `${driver} in the bundle`).toEqual([]);
  }
  // The packages come from their build, resolved by name, not from their sources.
  const steadyfn = b.inputs.filter((i) => i.startsWith('packages/'));
  expect(steadyfn.length).toBeGreaterThan(0);
  for (const input of steadyfn) expect(input).toMatch(/^packages\/[a-z-]+\/dist\//);
}

async function accepted(id: string): Promise<string | null> {
  return redis.hget('steadyfn:example:accepted', id);
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, STEADYFN_LOG_LEVEL: 'error' });

/** Starts a long-lived child and ends it (and waits) when the test is done. */
function start(command: string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn(process.execPath, command, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe.each(['esm', 'cjs'] as const)('examples bundled as %s', (format) => {
  it('aws-lambda: the Lambda runtime interface client runs the bundle (HTTP API and SQS)', async () => {
    const b = bundle('aws-lambda', 'index.mjs', format, format === 'esm' ? 'index.mjs' : 'index.cjs');
    expectOnlyRedis(b);
    const ricDir = dirname(createRequire(join(root, 'packages/handler/package.json')).resolve('aws-lambda-ric/package.json'));
    const api = new RuntimeApi();
    const address = await api.listen();
    const ric = start([join(ricDir, 'index.mjs')], b.dir, {
      ...childEnv(),
      AWS_LAMBDA_RUNTIME_API: address,
      _HANDLER: 'index.main',
      LAMBDA_TASK_ROOT: b.dir,
      AWS_LAMBDA_FUNCTION_NAME: 'orders',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/orders',
      AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[$LATEST]0f3c2a719d4e4b8aa1c65e7d9b2f4c10',
      AWS_REGION: 'eu-west-1',
    });
    ric.child.on('exit', (code) => api.abandon(`the runtime exited (${code}): ${ric.output().slice(-2000)}`));
    try {
      const id = sku(format, 'aws');
      const http = await api.invoke(apiGatewayV2({ sku: id, qty: 2 }));
      expect(http.outcome, ric.output()).toBe('response');
      expect(http.body).toMatchObject({ statusCode: 200 });
      expect(JSON.parse((http.body as Json).body as string)).toEqual({ accepted: true, sku: id, qty: 2 });
      const bad = await api.invoke(apiGatewayV2({ sku: '', qty: 0 }));
      expect(bad.body).toMatchObject({ statusCode: 400 });
      const batch = await api.invoke({ Records: [sqsRecord('m1', { sku: id, qty: 3 }), sqsRecord('m2', { sku: 'discontinued', qty: 1 })] });
      expect(batch.body).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
      expect(await accepted(id)).toBe('5');
    } finally {
      await ric.stop();
      await api.close();
    }
  });

  it('gcp-functions: the Functions Framework serves the bundle over HTTP and as a Pub/Sub CloudEvent', async () => {
    const b = bundle('gcp-functions', 'index.mjs', format, format === 'esm' ? 'index.mjs' : 'index.cjs', ['@google-cloud/functions-framework']);
    expectOnlyRedis(b);
    writeFileSync(join(b.dir, 'package.json'), JSON.stringify({ main: format === 'esm' ? 'index.mjs' : 'index.cjs' }));
    const cli = join(installedDir('@google-cloud/functions-framework'), 'build/src/main.js');
    const id = sku(format, 'gcp');
    for (const target of ['orders', 'orderMessages']) {
      const port = await freePort();
      const server = start([cli, `--target=${target}`, `--source=${b.dir}`, `--port=${port}`], b.dir, childEnv());
      try {
        const url = `http://127.0.0.1:${port}/`;
        for (let i = 0; i < 100; i++) {
          if (await fetch(url, { method: 'OPTIONS' }).then(() => true, () => false)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        if (target === 'orders') {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: id, qty: 2 }) });
          expect(res.status, server.output()).toBe(200);
          expect(await res.json()).toEqual({ accepted: true, sku: id, qty: 2 });
        } else {
          const res = await fetch(url, pubsubCloudEvent(`p-${id}`, { sku: id, qty: 4 }));
          expect(res.status, server.output()).toBe(204);
        }
      } finally {
        await server.stop();
      }
    }
    expect(await accepted(id)).toBe('6');
  });

  it('azure-functions: the bundle answers @azure/functions requests and queue messages', async () => {
    const b = bundle('azure-functions', 'src/functions/orders.mjs', format, format === 'esm' ? 'orders.mjs' : 'orders.cjs', ['@azure/functions']);
    expectOnlyRedis(b);
    const id = sku(format, 'azure');
    // What the worker does: load the module (which registers with @azure/functions), call the handler with its objects.
    const driver = `
      import azure from '@azure/functions';
      const mod = await import(${JSON.stringify(b.file)});
      const main = mod.main ?? mod.default?.main;
      const request = new azure.HttpRequest({ method: 'POST', url: 'http://localhost/api/orders', headers: { 'content-type': 'application/json' }, body: { string: JSON.stringify({ sku: ${JSON.stringify(id)}, qty: 2 }) } });
      const context = new azure.InvocationContext({ invocationId: 'a1', functionName: 'orders', options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [], extraOutputs: [] } });
      const http = new azure.HttpResponse(await main(request, context));
      const queueContext = new azure.InvocationContext({ invocationId: 'q1', functionName: 'orderMessages', options: { trigger: { type: 'queueTrigger', name: 'item', queueName: 'orders' }, extraInputs: [], extraOutputs: [] }, triggerMetadata: { id: 'q1', dequeueCount: 1, popReceipt: 'pr', insertionTime: new Date().toISOString() } });
      const queued = await main({ sku: ${JSON.stringify(id)}, qty: 1 }, queueContext);
      let failed;
      try { await main({ sku: 'discontinued', qty: 1 }, queueContext); } catch (err) { failed = err.code; }
      console.log(JSON.stringify({ status: http.status, body: await http.json(), queued, failed }));
      process.exit(0);`;
    writeFileSync(join(b.dir, 'host.mjs'), driver);
    const out = JSON.parse(execFileSync(process.execPath, [join(b.dir, 'host.mjs')], { cwd: b.dir, env: childEnv(), encoding: 'utf8', timeout: 20_000 }).trim().split('\n').at(-1)!) as Json;
    expect(out).toEqual({ status: 200, body: { accepted: true, sku: id, qty: 2 }, queued: { accepted: true, sku: id, qty: 1 }, failed: 'DISCONTINUED' });
    expect(await accepted(id)).toBe('3');
  });

  it('openwhisk: the action answers a web action and a plain activation', async () => {
    const b = bundle('openwhisk', 'index.js', format, format === 'esm' ? 'index.mjs' : 'index.js');
    expectOnlyRedis(b);
    const id = sku(format, 'openwhisk');
    // OpenWhisk's Node runtime loads an action with require(); an ESM bundle of this CommonJS
    // action exposes module.exports as its default export, which is what an importer sees.
    const driver = `
      const mod = ${format === 'esm' ? `await import(${JSON.stringify(b.file)})` : `(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(b.file)})`};
      const main = mod.main ?? mod.default.main;
      process.env.__OW_ACTIVATION_ID = 'ow-web';
      process.env.__OW_DEADLINE = String(Date.now() + 60_000);
      const web = await main({ sku: ${JSON.stringify(id)}, qty: 2, __ow_method: 'post', __ow_headers: { 'content-type': 'application/json' }, __ow_path: '' });
      process.env.__OW_ACTIVATION_ID = 'ow-plain';
      const plain = await main({ sku: 'discontinued', qty: 1 });
      console.log(JSON.stringify({ status: web.statusCode, body: typeof web.body === 'string' ? JSON.parse(web.body) : web.body, plain }));
      process.exit(0);`;
    writeFileSync(join(b.dir, 'invoker.mjs'), driver);
    const out = JSON.parse(execFileSync(process.execPath, [join(b.dir, 'invoker.mjs')], { cwd: b.dir, env: childEnv(), encoding: 'utf8', timeout: 20_000 }).trim().split('\n').at(-1)!) as Json;
    expect(out).toMatchObject({ status: 200, body: { accepted: true, sku: id, qty: 2 }, plain: { error: { code: 'DISCONTINUED', retryable: false } } });
    expect(await accepted(id)).toBe('2');
  });
});
