/**
 * A function that does not use S3 bundles with esbuild without `@aws-sdk/client-s3` installed
 * and without `--external`: every package whose root entry may be used without S3 (the S3 SDK
 * absent from its peers or optional there) is bundled from its published build in a project
 * that has every other dependency and peer installed but not the S3 SDK. esbuild resolves every
 * `import()` it sees, so one S3 store reachable from a root entry fails it (`Could not resolve
 * "@aws-sdk/client-s3"`). The S3 parts are in subpath entries (`@steadyfn/lease/s3`,
 * `@steadyfn/state/s3`, `@steadyfn/outbox/s3`): those need the SDK (the check can fail), and
 * with it installed they bundle as ESM and CJS and run against S3 (moto). No root entry reaches
 * any other optional peer either (ioredis, mongodb, `@aws-sdk/client-sqs`: `@steadyfn/backup/sqs`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build, buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from './services/env.js';
import { CREATE_REQUIRE_BANNER } from './support/bundle.js';
import { installedDir, makeConsumer, root, type Consumer } from './support/consumer.js';
import { DRIVER_OF_ENTRY, entrySpecifiers } from './support/entries.js';
import { workspacePackages } from './support/pack.js';

const S3_SDK = '@aws-sdk/client-s3';

interface Manifest {
  name: string;
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const manifests = workspacePackages().map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest }));
/** Packages a function may use without S3: the S3 SDK is not a required peer. */
const withoutS3 = manifests.filter(({ manifest }) => manifest.peerDependencies?.[S3_SDK] === undefined || manifest.peerDependenciesMeta?.[S3_SDK]?.optional === true);
/** Every third-party dependency and peer of every package, but the S3 SDK. */
const thirdParty = [...new Set(manifests.flatMap(({ manifest }) => [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]))].filter(
  (name) => !name.startsWith('@steadyfn/') && name !== S3_SDK,
);

let consumer: Consumer;
beforeAll(() => {
  consumer = makeConsumer(
    manifests.map((m) => m.dir),
    thirdParty,
  );
});
afterAll(() => consumer?.dispose());

/** Installs the S3 SDK into the project (once): for the S3 entries, and for the packages that require it (`@steadyfn/backup`). */
function installS3Sdk(): void {
  const to = join(consumer.dir, 'node_modules', S3_SDK);
  if (existsSync(to)) return;
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(installedDir(S3_SDK), to, 'dir');
}

/** esbuild's options for a bundle as a Lambda user makes one. */
function bundleOptions(format: 'esm' | 'cjs') {
  return {
    absWorkingDir: consumer.dir,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format,
    ...(format === 'esm' ? { banner: { js: CREATE_REQUIRE_BANNER } } : {}),
    logLevel: 'silent',
  } as const;
}

function errorsOf(error: unknown): string[] {
  return ((error as { errors?: Array<{ text: string }> }).errors ?? []).map((e) => e.text);
}

/** Bundles `source` (an entry file written into the project) as a Lambda user would; the bundle's path, or esbuild's errors. */
function bundle(name: string, source: string, format: 'esm' | 'cjs'): { file: string; errors: string[] } {
  consumer.write(`${name}.mjs`, source);
  const file = join(consumer.dir, 'dist', `${name}.${format === 'esm' ? 'mjs' : 'cjs'}`);
  try {
    buildSync({ ...bundleOptions(format), entryPoints: [join(consumer.dir, `${name}.mjs`)], outfile: file });
    return { file, errors: [] };
  } catch (error) {
    return { file, errors: errorsOf(error) };
  }
}

/** An entry for the AWS SDKs (`@steadyfn/lease/s3`, `@steadyfn/backup/sqs`, …): it needs its SDK. */
const forAwsSdk = (specifier: string): boolean => DRIVER_OF_ENTRY[specifier]?.startsWith('@aws-sdk/') === true;

/** Per package that may be used without S3: every entry but the AWS SDK ones. */
const checked = withoutS3.map(({ manifest }) => [manifest.name, entrySpecifiers(manifest).filter((s) => !forAwsSdk(s))] as const);

it('the packages checked are the ones a function may use without S3 (none drops out unseen)', () => {
  expect(checked.map(([name]) => name).sort()).toEqual(['@steadyfn/connections', '@steadyfn/handler', '@steadyfn/idempotency', '@steadyfn/lease', '@steadyfn/outbox', '@steadyfn/state']);
  expect(checked.flatMap(([, specifiers]) => specifiers)).toEqual(expect.arrayContaining(['@steadyfn/handler/internal', '@steadyfn/connections/redis', '@steadyfn/connections/mongodb']));
});

describe.each(['cjs', 'esm'] as const)('%s bundles, with no @aws-sdk/client-s3 installed and no --external', (format) => {
  // One esbuild call per package, an entry point per export entry; one process loads every bundle.
  it.each(checked)('every entry of %s but the AWS SDK ones bundles, and each bundle loads', (_name, specifiers) => {
    const slug = (specifier: string) => `${format}-${specifier.slice('@steadyfn/'.length).replace('/', '-')}`;
    for (const specifier of specifiers) consumer.write(`entries/${slug(specifier)}.mjs`, `import * as api from '${specifier}';\nconsole.log(JSON.stringify([${JSON.stringify(specifier)}, Object.keys(api).length]));\n`);
    const outdir = join(consumer.dir, 'dist', 'entries');
    const ext = format === 'esm' ? '.mjs' : '.cjs';
    let errors: string[] = [];
    try {
      buildSync({ ...bundleOptions(format), entryPoints: specifiers.map((s) => join(consumer.dir, 'entries', `${slug(s)}.mjs`)), outdir, outExtension: { '.js': ext } });
    } catch (error) {
      errors = errorsOf(error);
    }
    expect(errors).toEqual([]);
    const files = specifiers.map((s) => join(outdir, `${slug(s)}${ext}`));
    const loader = `for (const file of ${JSON.stringify(files)}) await import(new URL('file://' + file).href);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', loader], { cwd: consumer.dir, encoding: 'utf8' });
    const loaded = out.trim().split('\n').map((line) => JSON.parse(line) as [string, number]);
    expect(loaded.map(([specifier]) => specifier)).toEqual(specifiers);
    for (const [specifier, count] of loaded) expect(count, specifier).toBeGreaterThan(0);
  });

  it.each(checked.flatMap(([name]) => Object.keys(DRIVER_OF_ENTRY).filter((s) => s.startsWith(`${name}/`) && DRIVER_OF_ENTRY[s] === S3_SDK)))('the subpath %s needs the S3 SDK (the check can fail)', (specifier) => {
    const { errors } = bundle(`needs-${specifier.slice('@steadyfn/'.length).replace('/', '-')}-${format}`, `import * as api from '${specifier}';\nconsole.log(Object.keys(api).length);\n`, format);
    expect(errors).toEqual([`Could not resolve "${S3_SDK}"`]);
  });
});

// The same for every optional peer (ioredis, mongodb, the SQS SDK too): none is reached from a
// package's root entry. Each is made unresolvable in turn, as if not installed.
const optionalPeers = manifests
  .map(({ manifest }) => [manifest.name, Object.keys(manifest.peerDependenciesMeta ?? {}).filter((n) => manifest.peerDependenciesMeta![n]!.optional)] as const)
  .filter(([, optional]) => optional.length > 0);
describe.each(optionalPeers)(
  'the root entry of %s without an optional peer installed',
  (name, optional) => {
    // Every peer installed (the required ones too) but the one made unresolvable.
    beforeAll(installS3Sdk);
    it.each(optional)('bundles without %s', async (peer) => {
      consumer.write(`peer-${name.slice('@steadyfn/'.length)}.mjs`, `import * as api from '${name}';\nconsole.log(Object.keys(api).length);\n`);
      const absent = { name: 'absent', setup: (b: { onResolve: (o: { filter: RegExp }, f: () => unknown) => void }) => b.onResolve({ filter: new RegExp(`^${peer.replace('/', '\\/')}($|/)`) }, () => ({ errors: [{ text: `Could not resolve "${peer}"` }] })) };
      const result = await build({ entryPoints: [join(consumer.dir, `peer-${name.slice('@steadyfn/'.length)}.mjs`)], absWorkingDir: consumer.dir, bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent', plugins: [absent as never] }).then(
        () => [],
        (error: { errors?: Array<{ text: string }> }) => (error.errors ?? []).map((e) => e.text),
      );
      expect(result).toEqual([]);
    });
  },
);

// A consumer that only uses inbox() (triggered by the queue through the provider, never calling
// SQS) needs no SQS SDK: bundled with @aws-sdk/client-sqs unresolvable, it runs from a directory
// with no node_modules at all and handles an SQS batch once (a redelivery is a duplicate).
describe('an inbox-only consumer without @aws-sdk/client-sqs', () => {
  const SQS_SDK = '@aws-sdk/client-sqs';
  const absent = (peers: string[]) => ({
    name: 'absent',
    setup: (b: { onResolve: (o: { filter: RegExp }, f: (a: { path: string }) => unknown) => void }) =>
      b.onResolve({ filter: new RegExp(`^(${peers.map((p) => p.replace('/', '\\/')).join('|')})($|/)`) }, (a) => ({ errors: [{ text: `Could not resolve "${a.path}"` }] })),
  });
  const source = `
    import { handler } from '@steadyfn/handler';
    import { memoryStore } from '@steadyfn/idempotency';
    import { inbox } from '@steadyfn/outbox';
    const handled = [];
    const fn = handler({ use: [inbox({ store: memoryStore(), consumer: 'shipping' })], logLevel: 'error' }, async (_input, ctx) => void handled.push(ctx.inbox.event.seq));
    const body = JSON.stringify({ id: '0192f1a0-0000-7000-8000-000000000001', type: 'OrderPaid', aggregateType: 'order', aggregateId: 'o-1', seq: 1, payload: {}, occurredAt: '2026-12-01T10:00:00Z', schemaVersion: 1 });
    const record = { messageId: 'm-1', receiptHandle: 'rh', body, attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders', awsRegion: 'us-east-1' };
    const context = { awsRequestId: 'r-1', functionName: 'ship', getRemainingTimeInMillis: () => 30000 };
    const first = await fn.aws({ Records: [record] }, context);
    const again = await fn.aws({ Records: [{ ...record, messageId: 'm-2' }] }, context);
    console.log(JSON.stringify({ handled, first, again }));
  `;

  it.each(['esm', 'cjs'] as const)('%s: bundles with neither AWS SDK resolvable, and runs with no node_modules', async (format) => {
    const entry = join(consumer.dir, `inbox-only-${format}.mjs`);
    // Top-level await: an ES module entry; the CJS bundle wraps the body in an async function.
    const imports = `${source.match(/^\s*import .*$/gm)!.join('\n')}\n`;
    consumer.write(`inbox-only-${format}.mjs`, format === 'cjs' ? `${imports}(async () => {${source.replace(/^\s*import .*$/gm, '')}})();` : source);
    const out = await build({ ...bundleOptions(format), entryPoints: [entry], write: false, plugins: [absent([SQS_SDK, S3_SDK]) as never] }).then(
      (r) => ({ code: r.outputFiles[0]!.text, errors: [] as string[] }),
      (error: unknown) => ({ code: '', errors: errorsOf(error) }),
    );
    expect(out.errors).toEqual([]);
    // Run from an empty directory: nothing to load the SDK from, had the bundle left a require of it.
    const bare = mkdtempSync(join(tmpdir(), 'steadyfn-inbox-only-'));
    let printed: string;
    try {
      const file = join(bare, `index.${format === 'esm' ? 'mjs' : 'cjs'}`);
      writeFileSync(file, out.code);
      printed = execFileSync(process.execPath, [file], { cwd: bare, encoding: 'utf8', timeout: 60_000 });
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
    const result = JSON.parse(printed.trim().split('\n').at(-1)!) as { handled: number[]; first: { batchItemFailures: unknown[] }; again: { batchItemFailures: unknown[] } };
    expect(result).toEqual({ handled: [1], first: { batchItemFailures: [] }, again: { batchItemFailures: [] } });
  });

  it('the check can fail: @steadyfn/outbox/sqs needs the SQS SDK', async () => {
    consumer.write('needs-outbox-sqs.mjs', "import { inboxQueue } from '@steadyfn/outbox/sqs';\nconsole.log(typeof inboxQueue);\n");
    const errors = await build({ ...bundleOptions('esm'), entryPoints: [join(consumer.dir, 'needs-outbox-sqs.mjs')], write: false, plugins: [absent([SQS_SDK]) as never] }).then(
      () => [] as string[],
      (error: unknown) => errorsOf(error),
    );
    expect(errors).toEqual([`Could not resolve "${SQS_SDK}"`]);
  });
});

describe('with @aws-sdk/client-s3 installed, the S3 subpath entries bundle and work', () => {
  beforeAll(async () => {
    await requireService('s3');
    installS3Sdk();
  });

  it.each(['cjs', 'esm'] as const)('%s: s3LeaseStore claims, s3Json loads, resolveClaimCheck reads a claim-checked body', (format) => {
    const bucket = `bundle-s3-${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify({ big: 'x'.repeat(100) });
    const sha256 = createHash('sha256').update(body).digest('hex');
    const source = `
      import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
      import { s3LeaseStore } from '@steadyfn/lease/s3';
      import { s3Json } from '@steadyfn/state/s3';
      import { resolveClaimCheck, s3ClaimCheck } from '@steadyfn/outbox/s3';
      const s3 = new S3Client({ endpoint: process.env.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true,
        credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
        requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
      const bucket = ${JSON.stringify(bucket)};
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const claim = await s3LeaseStore({ client: s3, bucket }).claim({ key: 'job', owner: 'o-1', leaseMs: 60000 });
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'flags.json', Body: '{"beta":true}' }));
      const flags = await s3Json({ client: s3, bucket, key: 'flags.json' }).load(new AbortController().signal);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'claims/e-1', Body: ${JSON.stringify(body)} }));
      const pointer = { claimCheck: 1, bucket, key: 'claims/e-1', size: ${Buffer.byteLength(body)}, sha256: ${JSON.stringify(sha256)} };
      const resolved = await resolveClaimCheck({ body: JSON.stringify(pointer), attributes: { 'steadyfn.claimCheck': '1' } }, { s3 });
      const reader = s3ClaimCheck({ s3 });
      console.log(JSON.stringify({ claimed: claim.claimed, flags: flags.value, resolved, reader: typeof reader.commands }));
      s3.destroy();
    `;
    // Top-level await: an ES module entry; the CJS bundle wraps it in an async function.
    const wrapped = format === 'cjs' ? `(async () => {${source.replace(/^\s*import .*$/gm, '')}})();` : source;
    const imports = format === 'cjs' ? `${source.match(/^\s*import .*$/gm)!.join('\n')}\n` : '';
    const { file, errors } = bundle(`subpaths-${format}`, imports + wrapped, format);
    expect(errors).toEqual([]);
    const out = execFileSync(process.execPath, [file], { cwd: consumer.dir, encoding: 'utf8', env: process.env, timeout: 60_000 });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ claimed: true, flags: { beta: true }, resolved: body, reader: 'function' });
  });
});
