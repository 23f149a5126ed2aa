/**
 * What loading the built package costs a cold start: no entry loads `node:http` (its
 * `validateHeaderName` / `STATUS_CODES` were most of the handler's load time), and none builds
 * the ESM namespace of `node:crypto`, whose lazy getters load Web Crypto, nor loads `node:zlib`
 * (about 2 ms of CPU with its binding; only a deflate request body without a zlib header needs
 * it). Checked in fresh Node processes against dist/, for ESM and CommonJS. zod (a peer
 * dependency) is loaded only by the `schemas` entry: a bundle of any other entry holds none of
 * it. A provider entry loaded from node_modules (no bundler to drop what it does not use) loads
 * no other provider's adapter.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const ENTRIES = ['index', 'aws', 'gcp', 'azure', 'openwhisk', 'internal'];

function loadedBy(file: string, esm: boolean): string[] {
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\``);
  const load = esm ? `await import(${JSON.stringify(file)})` : `require(${JSON.stringify(file)})`;
  const script = `const before = new Set(process.moduleLoadList); ${load}; console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))));`;
  const out = execFileSync(process.execPath, esm ? ['--input-type=module', '-e', script] : ['-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

/** The adoption entries: loaded only by those who use them, never by the provider entries. */
const ADOPTION = ['middy', 'tracing', 'logging'];

describe.each([...ENTRIES, ...ADOPTION, 'schemas'])('loading @steadyfn/handler entry %s', (entry) => {
  it.each([true, false])('(ESM: %s) loads neither node:http, Web Crypto nor node:zlib', (esm) => {
    const loaded = loadedBy(`${dist}${entry}.${esm ? 'js' : 'cjs'}`, esm);
    expect(loaded.filter((m) => /^NativeModule (_?http|https|internal\/http|internal\/crypto\/webcrypto|zlib$)/.test(m))).toEqual([]);
  });
});

describe('zod', () => {
  it.each([...ENTRIES, ...ADOPTION, 'schemas'])('a bundle of %s holds zod only when it is the schemas entry', async (entry) => {
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [`${dist}${entry}.js`], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent' });
    const zodFiles = Object.keys(out.metafile.inputs).filter((file) => /(^|\/)node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?zod\//.test(file));
    if (entry === 'schemas') expect(zodFiles.length).toBeGreaterThan(0);
    else expect(zodFiles).toEqual([]);
  });
});

describe('entries share one copy of the core', () => {
  it.each([true, false])('(ESM: %s) an error class is the same class from every entry', (esm) => {
    const ext = esm ? 'js' : 'cjs';
    const files = ENTRIES.map((entry) => `${dist}${entry}.${ext}`);
    const load = (file: string) => (esm ? `await import(${JSON.stringify(file)})` : `require(${JSON.stringify(file)})`);
    const script = `const mods = []; ${files.map((f) => `mods.push(${load(f)});`).join(' ')}
      // Every entry exports the one SteadyError; each but internal (the last) exports a handler.
      console.log(JSON.stringify(mods.map((m, i) => m.SteadyError === mods[0].SteadyError && (i === mods.length - 1 ? m.handler === undefined : typeof m.handler === 'function'))));`;
    const out = execFileSync(process.execPath, esm ? ['--input-type=module', '-e', script] : ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(ENTRIES.map(() => true));
  });
});

describe('the schemas entry and a provider entry', () => {
  it.each([true, false])('(ESM: %s) see the same running invocation (the trigger check works across entries)', (esm) => {
    const ext = esm ? 'js' : 'cjs';
    const load = (entry: string) => (esm ? `await import(${JSON.stringify(`${dist}${entry}.${ext}`)})` : `require(${JSON.stringify(`${dist}${entry}.${ext}`)})`);
    const script = `(async () => {
      const { handler } = ${load('aws')};
      const { storageObject } = ${load('schemas')};
      const main = handler({ input: storageObject(), logSink: () => {} }, (upload, ctx) => ctx.trigger.kind + ':' + upload.key);
      const upload = { op: 'created', bucket: 'b', key: 'k' };
      const asStorage = await main.invoke(upload, { trigger: { kind: 'storage', source: 's3', op: 'created', eventType: 'ObjectCreated:Put', bucket: 'b', key: 'k', batchIndex: 0, batchSize: 1 } });
      const plain = await main.invoke(upload).catch((e) => e.code);
      console.log(JSON.stringify([asStorage, plain]));
    })();`;
    const out = execFileSync(process.execPath, esm ? ['--input-type=module', '-e', script] : ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['storage:k', 'VALIDATION_FAILED']);
  });
});

describe('the provider entries stay lean', () => {
  it.each(['index', 'aws'])('a bundle of %s carries none of the middy adapter, the tracing plugin or the log sinks', async (entry) => {
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [`${dist}${entry}.js`], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'silent' });
    const code = out.outputFiles[0]!.text;
    for (const marker of ['MIDDY_WRAP_NOT_RUN', 'opentelemetry.js.api.1', 'powertoolsLogSink', 'messaging.batch.message_count']) expect(code).not.toContain(marker);
    // The trace context every ctx carries is in (it is small).
    expect(code).toContain('TRACEPARENT_INVALID');
  });
});

describe('a provider entry bundled', () => {
  // Each adapter passes its own principal reader in its frame (Frame.principal): a bundle of a
  // provider entry holds none of another provider's (their identity header names mark them).
  const READERS = { aws: 'x-amzn-oidc-identity', azure: 'x-ms-client-principal', gcp: 'x-goog-authenticated-user-id', openwhisk: '__ow_user' };
  it.each(['aws', 'gcp', 'azure', 'openwhisk'])('%s carries its own principal reader and no other provider\'s', async (entry) => {
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [`${dist}${entry}.js`], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'silent' });
    const code = out.outputFiles[0]!.text;
    for (const [provider, marker] of Object.entries(READERS)) expect(code.includes(`"${marker}"`), `${entry} carries ${provider}'s reader`).toBe(provider === entry);
  });
});

/** The source files (as tsup names them in its `// src/…` markers) in every dist file an ESM entry imports, transitively. */
function sourcesLoadedBy(entry: string): Set<string> {
  const files = new Set<string>();
  const pending = [`${entry}.js`];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(`${dist}${file}`, 'utf8').matchAll(/(?:from|import)\s*"\.\/([^"]+)"/g)) pending.push(m[1]!);
  }
  const sources = new Set<string>();
  for (const file of files) for (const m of readFileSync(`${dist}${file}`, 'utf8').matchAll(/^\/\/ (src\/[^\s]+)/gm)) sources.add(m[1]!);
  return sources;
}

describe('a provider entry loaded unbundled', () => {
  const ADAPTERS = { aws: 'src/providers/lambda.ts', gcp: 'src/providers/gcp.ts', azure: 'src/providers/azure.ts', openwhisk: 'src/providers/openwhisk.ts' };
  it.each(Object.keys(ADAPTERS))('%s loads its own adapter and no other provider\'s', (entry) => {
    const sources = sourcesLoadedBy(entry);
    for (const [provider, adapter] of Object.entries(ADAPTERS)) expect(sources.has(adapter), `${entry} loads ${adapter}`).toBe(provider === entry);
  });
});
