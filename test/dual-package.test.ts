/**
 * The dual-package hazard: a program that both `import`s and `require`s our packages holds two
 * copies of every error class (the ESM and the CJS build). `instanceof` must still answer for
 * an error made by the other copy — for the base class and for each subclass, without mixing
 * subclasses up. Runs in a separate Node process on the built dist/, resolved by package name
 * as a user's code resolves it (no source aliases).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// The outbox depends on the handler, idempotency and lease packages: resolve them from there.
const from = `${root}packages/outbox/package.json`;

/** Runs `body` with `esm` and `cjs` (each `{ handler, idempotency, outbox }`) in a fresh Node process; returns what it printed as JSON. */
function withBothCopies(body: string): Record<string, unknown> {
  const script = `
    const { createRequire } = require('node:module');
    const req = createRequire(${JSON.stringify(from)});
    const names = ['@steadyfn/handler', '@steadyfn/idempotency', '@steadyfn/outbox'];
    const cjs = Object.fromEntries(names.map((n) => [n.slice(10), req(n)]));
    Promise.all(names.map((n) => import(req.resolve(n).replace(/\\.cjs$/, '.js')))).then((mods) => {
      const esm = Object.fromEntries(names.map((n, i) => [n.slice(10), mods[i]]));
      if (esm.handler.SteadyError === cjs.handler.SteadyError) throw new Error('not two copies');
      ${body}
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })) as Record<string, unknown>;
}

describe('error class names in the builds', () => {
  // The class name is the identity another copy compares: the CJS conversion must not rename.
  it('every exported error class of every package is named as exported, in ESM and in CJS', () => {
    const script = `
      const { readdirSync, existsSync } = require('node:fs');
      const dirs = readdirSync(${JSON.stringify(`${root}packages`)}).filter((d) => existsSync(${JSON.stringify(`${root}packages/`)} + d + '/dist/index.cjs'));
      (async () => {
        const wrong = []; let checked = 0;
        for (const d of dirs) {
          const base = ${JSON.stringify(`${root}packages/`)} + d + '/dist/index';
          for (const mod of [require(base + '.cjs'), await import(base + '.js')]) {
            for (const [name, value] of Object.entries(mod)) {
              if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
              checked++;
              if (value.name !== name) wrong.push(d + ': ' + name + ' is named ' + value.name);
            }
          }
        }
        console.log(JSON.stringify({ checked, wrong }));
      })();`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })) as { checked: number; wrong: string[] };
    expect(out.checked).toBeGreaterThan(80);
    expect(out.wrong).toEqual([]);
  });
});

describe('error classes across the ESM and CJS copies of the built packages', () => {
  it('instanceof holds both ways for the base class and for subclasses from two packages', () => {
    const out = withBothCopies(`
      const r = {};
      for (const [made, check] of [['cjs', 'esm'], ['esm', 'cjs']]) {
        const M = made === 'cjs' ? cjs : esm, C = made === 'cjs' ? esm : cjs;
        const config = new M.handler.ConfigurationError('x(): option "a" is wrong', { field: 'a', expected: 'b' });
        const reused = new M.idempotency.IdempotencyKeyReusedError();
        const gap = new M.outbox.SeqGapError('gap');
        const base = new M.handler.SteadyError('X', 'x');
        r[made + '→' + check] = {
          configIsSteady: config instanceof C.handler.SteadyError,
          configIsConfig: config instanceof C.handler.ConfigurationError,
          configIsError: config instanceof Error,
          reusedIsSteady: reused instanceof C.handler.SteadyError,
          reusedIsReused: reused instanceof C.idempotency.IdempotencyKeyReusedError,
          gapIsGap: gap instanceof C.outbox.SeqGapError,
          baseIsSteady: base instanceof C.handler.SteadyError,
        };
      }
      console.log(JSON.stringify(r));`);
    const yes = { configIsSteady: true, configIsConfig: true, configIsError: true, reusedIsSteady: true, reusedIsReused: true, gapIsGap: true, baseIsSteady: true };
    expect(out).toEqual({ 'cjs→esm': yes, 'esm→cjs': yes });
  });

  it('keeps subclasses apart and refuses what is not ours', () => {
    const out = withBothCopies(`
      const r = {};
      for (const [made, check] of [['cjs', 'esm'], ['esm', 'cjs'], ['esm', 'esm']]) {
        const M = made === 'cjs' ? cjs : esm, C = check === 'cjs' ? cjs : esm;
        const config = new M.handler.ConfigurationError('x(): option "a" is wrong', { field: 'a', expected: 'b' });
        const reused = new M.idempotency.IdempotencyKeyReusedError();
        const base = new M.handler.SteadyError('CONFIG_INVALID', 'x');
        const lookalike = Object.assign(new Error('x'), { name: 'ConfigurationError', code: 'CONFIG_INVALID', status: 500, retryable: false, expose: false });
        r[made + '→' + check] = [
          config instanceof C.idempotency.IdempotencyKeyReusedError,
          config instanceof C.outbox.SeqGapError,
          reused instanceof C.handler.ConfigurationError,
          base instanceof C.handler.ConfigurationError,
          lookalike instanceof C.handler.SteadyError,
          lookalike instanceof C.handler.ConfigurationError,
          null instanceof C.handler.SteadyError,
          ({}) instanceof C.handler.SteadyError,
        ];
      }
      console.log(JSON.stringify(r));`);
    const no = [false, false, false, false, false, false, false, false];
    expect(out).toEqual({ 'cjs→esm': no, 'esm→cjs': no, 'esm→esm': no });
  });

  it('toSteadyError keeps an error made by the other copy as it is (same code, class, issues)', () => {
    const out = withBothCopies(`
      const config = new cjs.handler.ConfigurationError('x(): option "a" is wrong', { field: 'a', expected: 'b' });
      const converted = esm.handler.toSteadyError(config);
      console.log(JSON.stringify({ same: converted === config, name: converted.name, code: converted.code }));`);
    expect(out).toEqual({ same: true, name: 'ConfigurationError', code: 'CONFIG_INVALID' });
  });
});

describe('the current invocation across the ESM and CJS copies', () => {
  it("currentContext() of one copy finds the invocation the other copy runs, alone and overlapping", () => {
    const out = withBothCopies(`
      const r = {};
      (async () => {
        for (const [runs, asks] of [['esm', 'cjs'], ['cjs', 'esm']]) {
          const R = runs === 'cjs' ? cjs : esm, A = runs === 'cjs' ? esm : cjs;
          const main = R.handler.handler({ logSink: () => {} }, async (input, ctx) => {
            await new Promise((done) => setTimeout(done, 5));
            return A.handler.currentContext() === ctx && ctx.requestId !== undefined;
          });
          const alone = await main.invoke({});
          const overlapping = await Promise.all([main.invoke({}), main.invoke({}), main.invoke({})]);
          r[runs + ' runs, ' + asks + ' asks'] = { alone, overlapping, outside: A.handler.currentContext() === undefined };
        }
        console.log(JSON.stringify(r));
      })();`);
    const yes = { alone: true, overlapping: [true, true, true], outside: true };
    expect(out).toEqual({ 'esm runs, cjs asks': yes, 'cjs runs, esm asks': yes });
  });
});
