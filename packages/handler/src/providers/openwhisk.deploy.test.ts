/**
 * The built package deployed the ways the OpenWhisk Node.js runtime loads an action
 * (apache/openwhisk-runtime-nodejs `runner.js` `initializeActionHandler`), in the runtime
 * stand-in (test/fixtures/openwhisk/runtime/action-proxy.cjs): a single file sent as code
 * (esbuild bundles, CommonJS), and archives (`binary: true`: zip or tar.gz with package.json
 * `main` or index.js, CommonJS or ES modules, which Node 22 loads through require()). Each
 * action carries its own node_modules or bundle and runs in an image without the package.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerHttp, controllerParams } from '../../test/fixtures/openwhisk/controller.js';
import { actionImage, activation, activationLogs, initBody, post, untilSentinels, type Container, type Image } from '../../test/fixtures/openwhisk/runtime/container.js';

const hasZip = (() => {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The function every variant wraps: it logs a line and reports what it saw. */
const BODY = `async (input, ctx) => {
  ctx.log.info('handled');
  return { input, requestId: ctx.requestId, provider: ctx.provider, trigger: ctx.trigger.kind };
}`;
const CJS = (entry: string, exportAs: string) => `const { handler } = require('${entry}');\n${exportAs} = handler({}, ${BODY});\n`;
const ESM = (entry: string, exportAs: string) => `import { handler } from '${entry}';\n${exportAs} handler({}, ${BODY});\n`;

let modules: Image;
let bare: Image;
let work: string;
/** The node_modules every action ships: see shippedModules. */
let shipped: string;

/** Folders and files a deployment package leaves out: sources, tests, caches, maps and type declarations. */
const LEFT_OUT = new Set(['src', 'test', 'tests', '__tests__', '.cache']);
const leftOut = (path: string): boolean => LEFT_OUT.has(basename(path)) || /\.(map|d\.[cm]?ts)$/.test(basename(path)) || lstatSync(path).isSymbolicLink();

/**
 * The image's packages (the built handler, its dependencies, zod) copied as an action's
 * `npm install --omit=dev` lays them out: each package's real folder, without what LEFT_OUT
 * names and without symlinks inside a package (a registry tarball holds none; one in a
 * long-lived checkout's store can loop, and `tar -h` or `zip -r` would follow it without end).
 * Archives then hold only what the action needs at run time.
 */
function shippedModules(from: string, to: string): string {
  for (const entry of readdirSync(from)) {
    const names = entry.startsWith('@') ? readdirSync(join(from, entry)).map((name) => `${entry}/${name}`) : [entry];
    for (const name of names) cpSync(realpathSync(join(from, name)), join(to, name), { recursive: true, filter: (path) => !leftOut(path) });
  }
  return to;
}

beforeAll(async () => {
  // `modules` only provides node_modules (the built package, zod) for the actions to ship.
  [modules, bare] = await Promise.all([actionImage(true), actionImage(false)]);
  work = mkdtempSync(join(tmpdir(), 'steadyfn-ow-actions-'));
  shipped = shippedModules(join(modules.dir, 'node_modules'), join(work, 'shipped', 'node_modules'));
}, 180_000);
afterAll(() => {
  modules?.dispose();
  bare?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** An action's folder with these files and the packages it ships (node_modules: a link to `shipped`). */
function actionFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'action-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  symlinkSync(shipped, join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * `zip -r action.zip .` and `tar -czhf action.tgz .` (symlinks stored as the files they name:
 * the `node_modules` link, whose target holds none), base64 as `wsk` sends it.
 */
const zip = (dir: string): string => execFileSync('zip', ['-qr', '-', '.'], { cwd: dir, maxBuffer: 1 << 28 }).toString('base64');
const tarGz = (dir: string): string => execFileSync('tar', ['-czhf', '-', '.'], { cwd: dir, maxBuffer: 1 << 28 }).toString('base64');

async function bundle(source: string, ext: 'cjs' | 'mjs'): Promise<string> {
  const dir = actionFolder({ [`entry.${ext}`]: source });
  const out = await build({ entryPoints: [join(dir, `entry.${ext}`)], bundle: true, platform: 'node', target: 'node22', format: 'cjs', write: false, logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

async function deploy(code: string, main: string, binary: boolean): Promise<{ c: Container; init: { status: number; body: Record<string, any> } }> {
  const c = await bare.start();
  return { c, init: await post(c, '/init', initBody(code, main, binary)) };
}

/** A plain and a web activation: the wrapper answers both. */
async function expectServes(c: Container): Promise<void> {
  const plain = await post(c, '/run', activation({ x: 1 }, 'act-plain'));
  expect(plain).toEqual({ status: 200, body: { input: { x: 1 }, requestId: 'act-plain', provider: 'openwhisk', trigger: 'direct' } });
  const web = await post(c, '/run', activation(controllerParams({ method: 'POST', contentType: 'application/json', body: '{"name":"Jane"}' }, false), 'act-web'));
  expect(web.status).toBe(200);
  const sent = controllerHttp(web.body);
  expect(sent.status).toBe(200);
  expect(JSON.parse(sent.body.toString())).toEqual({ input: { name: 'Jane' }, requestId: 'act-web', provider: 'openwhisk', trigger: 'http' });
}

describe('archives (binary: true), as `wsk action create name action.zip --kind nodejs:22`', () => {
  const variants: Array<{ name: string; files: Record<string, string>; main?: string; pack?: (dir: string) => string }> = [
    { name: 'zip, package.json main, CommonJS exports.main', files: { 'package.json': '{"main":"lib/action.js"}', 'lib/action.js': CJS('@steadyfn/handler', 'exports.main') } },
    { name: 'zip, index.js without package.json, module.exports.main', files: { 'index.js': CJS('@steadyfn/handler/openwhisk', 'module.exports.main') } },
    { name: 'zip, module.exports = handler(…)', files: { 'package.json': '{"main":"index.js"}', 'index.js': CJS('@steadyfn/handler', 'module.exports') } },
    { name: 'zip, main "handlers.main" (a file of the archive)', files: { 'handlers.js': CJS('@steadyfn/handler/openwhisk', 'exports.main') }, main: 'handlers.main' },
    { name: 'zip, ES module ("type": "module", export const main)', files: { 'package.json': '{"type":"module","main":"index.js"}', 'index.js': ESM('@steadyfn/handler/openwhisk', 'export const main =') } },
    { name: 'zip, ES module .mjs as package.json main', files: { 'package.json': '{"main":"action.mjs"}', 'action.mjs': ESM('@steadyfn/handler', 'export const main =') } },
    { name: 'zip, ES module default export with main "default"', files: { 'package.json': '{"type":"module"}', 'index.js': ESM('@steadyfn/handler', 'export default') }, main: 'default' },
    { name: 'tar.gz, package.json main, CommonJS', files: { 'package.json': '{"main":"action.js"}', 'action.js': CJS('@steadyfn/handler', 'exports.main') }, pack: tarGz },
  ];

  it.skipIf(!hasZip).each(variants)('$name (needs zip and unzip)', async ({ files, main = 'main', pack = zip }) => {
    const { c, init } = await deploy(pack(actionFolder(files)), main, true);
    expect(init, c.stderr.join('\n')).toEqual({ status: 200, body: { OK: true } });
    await expectServes(c);
  }, 60_000);

  it.skipIf(!hasZip)('(control) an ES module with top-level await cannot be loaded by require(): init fails (needs zip and unzip)', async () => {
    const files = { 'package.json': '{"type":"module"}', 'index.js': `await Promise.resolve();\n${ESM('@steadyfn/handler', 'export const main =')}` };
    const { init } = await deploy(zip(actionFolder(files)), 'main', true);
    expect(init.status).toBe(502);
    expect(init.body.error).toContain('ERR_REQUIRE_ASYNC_MODULE');
  }, 60_000);

  it.skipIf(!hasZip)('(control) an archive with neither package.json nor index.js fails init as the runtime does (needs zip and unzip)', async () => {
    const { init } = await deploy(zip(actionFolder({ 'action.js': CJS('@steadyfn/handler', 'exports.main') })), 'main', true);
    expect(init).toEqual({ status: 502, body: { error: 'Initialization has failed due to: Zipped actions must contain either package.json or index.js at the root.' } });
  }, 60_000);
});

describe('a single file sent as code (binary: false), as `wsk action create name dist/action.js --kind nodejs:22`', () => {
  const variants: Array<{ name: string; source: string; ext: 'cjs' | 'mjs' }> = [
    { name: 'CommonJS exports.main', source: CJS('@steadyfn/handler', 'exports.main'), ext: 'cjs' },
    { name: 'CommonJS module.exports = handler(…) (no `main` binding in the bundle)', source: CJS('@steadyfn/handler/openwhisk', 'module.exports'), ext: 'cjs' },
    { name: 'ES module source (export const main) bundled to CommonJS', source: ESM('@steadyfn/handler/openwhisk', 'export const main ='), ext: 'mjs' },
  ];

  it.each(variants)('an esbuild bundle: $name', async ({ source, ext }) => {
    const { c, init } = await deploy(await bundle(source, ext), 'main', false);
    expect(init, c.stderr.join('\n')).toEqual({ status: 200, body: { OK: true } });
    await expectServes(c);
  }, 60_000);

  it('(control) ES module syntax is not accepted as code: init fails with a SyntaxError', async () => {
    const { init } = await deploy(ESM('@steadyfn/handler', 'export const main ='), 'main', false);
    expect(init.status).toBe(502);
    expect(init.body.error).toMatch(/SyntaxError/);
  });
});

describe('(control) the runtime stand-in answers plain actions as runner.js and service.js do', () => {
  it.each([
    // serialize-error: name, message and stack (not compared).
    { code: 'function main() { return Promise.reject(new Error("nope")) }', status: 200, body: { error: { name: 'Error', message: 'nope' } }, partial: true },
    { code: 'function main() { return Promise.reject() }', status: 200, body: { error: {} } },
    { code: 'function main() { return 42 }', status: 502, body: { error: 'The action did not return a dictionary.' } },
    { code: 'function main() { return }', status: 200, body: {} },
    { code: 'exports.main = (p) => ({ got: p })', status: 200, body: { got: { x: 1 } } },
    { code: 'x = 1; function main() { return { sloppy: x } }', status: 200, body: { sloppy: 1 } },
  ])('$code', async ({ code, status, body, partial = false }) => {
    const { c, init } = await deploy(code, 'main', false);
    expect(init.status).toBe(200);
    const res = await post(c, '/run', activation({ x: 1 }, 'act-control'));
    expect(res.status).toBe(status);
    if (partial) expect(res.body).toMatchObject(body);
    else expect(res.body).toEqual(body);
  });
});

describe('activation logs', () => {
  it("keep each activation's lines before its end sentinel", async () => {
    const source = CJS('@steadyfn/handler', 'exports.main').replace("ctx.log.info('handled');", "ctx.log.info('handled'); if (input.fail) throw new Error('boom');");
    const { c, init } = await deploy(await bundle(source, 'cjs'), 'main', false);
    expect(init.status).toBe(200);
    const ids = ['act-log-1', 'act-log-2', 'act-log-3'];
    for (const [i, id] of ids.entries()) {
      const res = await post(c, '/run', activation({ fail: i === 1 }, id));
      expect(res.status).toBe(200);
    }
    await untilSentinels(c, ids.length);
    const segments = activationLogs(c).slice(0, ids.length);
    segments.forEach((lines, i) => {
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.map((e) => e.requestId)).toEqual(entries.map(() => ids[i]));
      expect(entries.map((e) => e.msg)).toEqual(i === 1 ? ['handled', 'invocation failed'] : ['handled']);
    });
  });
});
