/**
 * The cold-start bench's function (handler `/aws` + idempotency on an ioredis client + zod,
 * `bench/coldstart/apps.ts`), bundled as the bench bundles it, carries only what such a
 * function can run: no store for MongoDB, S3 or memory, no other provider's adapter, event
 * normalisers or principal reader, no MongoDB driver or AWS SDK. Bytes in the bundle are what a
 * bundled cold start compiles. Bundled from the sources (the `steadyfn-source` condition), so
 * the metafile names source files; what esbuild keeps is what the import graph reaches.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ourApp } from '../bench/coldstart/apps.js';

const packages = fileURLToPath(new URL('../../', import.meta.url));
let root: string;

beforeAll(() => {
  // A deployment package's root, as the bench makes it: node_modules links to the installed packages.
  root = mkdtempSync(join(tmpdir(), 'steadyfn-coldstart-bundle-'));
  const links = {
    '@steadyfn/handler': join(packages, 'handler'),
    '@steadyfn/idempotency': join(packages, 'idempotency'),
    ioredis: join(packages, 'idempotency', 'node_modules', 'ioredis'),
    zod: join(packages, 'handler', 'node_modules', 'zod'),
  };
  for (const [name, dir] of Object.entries(links)) {
    const link = join(root, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(dir), link, 'dir');
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The metafile inputs of `source` bundled as the bench bundles (CommonJS, node22, not minified), with their bytes in the output. */
async function inputsOf(source: string): Promise<Map<string, number>> {
  const entry = join(root, `app-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(entry, source);
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
    conditions: ['steadyfn-source'],
  });
  const inputs = Object.values(out.metafile.outputs)[0]!.inputs;
  return new Map(Object.entries(inputs).map(([file, { bytesInOutput }]) => [file, bytesInOutput]));
}

/** What this function never runs: other stores, other providers, their drivers and SDKs. */
const NEVER = [
  /packages\/(lease|idempotency)\/src\/stores\/(mongodb|s3|memory)/,
  /packages\/handler\/src\/providers\/(gcp|azure|openwhisk)/,
  /packages\/handler\/src\/principal-azure\.ts$/,
  /packages\/handler\/src\/events\/(azure-|cosmos|couchdb|event-grid|event-hubs|firebase|gcs|pubsub)/,
  /packages\/handler\/src\/(middy\/|trace\/(otel|plugin|semconv)|log-sinks)/,
  /node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(mongodb|bson|@aws-sdk|@smithy)\//,
];

describe('the cold-start bench function, bundled', () => {
  it('on /aws: no other store, provider, driver or SDK in the bundle', async () => {
    const inputs = await inputsOf(ourApp('@steadyfn/handler/aws', 'bench:'));
    // It is the function: the Lambda adapter, the Redis lease store and ioredis are in.
    const files = [...inputs.keys()];
    expect(files.some((f) => f.endsWith('packages/handler/src/providers/lambda.ts'))).toBe(true);
    expect(files.some((f) => f.endsWith('packages/lease/src/stores/redis.ts'))).toBe(true);
    expect(files.filter((f) => NEVER.some((re) => re.test(f)))).toEqual([]);
  });

  it('the check can fail: a function on mongoStore carries the MongoDB stores', async () => {
    const source = ourApp('@steadyfn/handler/aws', 'bench:').replace('redisStore({ client: redis,', 'mongoStore({ collection: {},').replace('idempotency, redisStore', 'idempotency, mongoStore');
    const files = [...(await inputsOf(source)).keys()];
    expect(files.filter((f) => NEVER[0]!.test(f)).length).toBeGreaterThan(0);
  });
});
