/**
 * The root entry registered with `functions.cloudEvent()` and given a request body that is not
 * a CloudEvent, with FUNCTION_SIGNATURE_TYPE unset. The Functions Framework takes the signature
 * from `--signature-type` or FUNCTION_SIGNATURE_TYPE (default `http`), and a declarative
 * `functions.cloudEvent()` registration overrides it without setting the variable
 * (GoogleCloudPlatform/functions-framework-nodejs src/options.ts `SignatureOption`); it hands a
 * CloudEvent function such a body as it is. The call cannot be told from a plain one-argument
 * call, so it still runs as `direct` — but on Cloud Functions (K_SERVICE or FUNCTION_TARGET set,
 * as the platform sets them) a warn line says so once per handler, and how to make it explicit.
 * Served by the framework's own test server.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { ASSUMED_DIRECT } from '../src/providers/assumed-direct.js';
import { closeServers, serve } from './support/gcp-server.js';
import { logs, recorder, type Json } from './support/published.js';

afterAll(closeServers);

const VARS = ['FUNCTION_SIGNATURE_TYPE', 'K_SERVICE', 'FUNCTION_TARGET'] as const;
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
afterEach(() => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

function setEnv(values: Partial<Record<(typeof VARS)[number], string>>): void {
  for (const v of VARS) {
    if (values[v] === undefined) delete process.env[v];
    else process.env[v] = values[v];
  }
}

const warnings = (lines: Json[]) => lines.filter((l) => l.level === 'warn');

/** A root-entry handler registered as a CloudEvent function; POSTs each body as structured JSON. */
async function postAll(bodies: unknown[]) {
  const { seen, fn } = recorder();
  const { lines, logSink } = logs();
  const url = await serve('cloudEvent', handler({ logSink, logLevel: 'debug' }, fn));
  const statuses: number[] = [];
  for (const body of bodies) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return { seen, lines, statuses };
}

describe('root entry, a CloudEvent function given a body that is not a CloudEvent, FUNCTION_SIGNATURE_TYPE unset', () => {
  it.each([
    ['K_SERVICE', { K_SERVICE: 'orders' }],
    ['FUNCTION_TARGET', { FUNCTION_TARGET: 'main' }],
  ] as const)('on Cloud Functions (%s set): runs as direct, one warn line for the handler naming what was assumed and how to say it', async (found, env) => {
    setEnv(env);
    const { seen, lines, statuses } = await postAll([{ order: 'o-1' }, { order: 'o-2' }, { order: 'o-3' }]);
    expect(statuses).toEqual([204, 204, 204]);
    expect(seen.map((s) => s.input)).toEqual([{ order: 'o-1' }, { order: 'o-2' }, { order: 'o-3' }]);
    expect(seen.map((s) => s.ctx.trigger)).toEqual([0, 1, 2].map(() => ({ kind: 'direct', source: 'direct' })));
    const warned = warnings(lines);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ msg: ASSUMED_DIRECT, assumed: 'direct', found });
    expect(String(warned[0]!.explicit)).toContain('FUNCTION_SIGNATURE_TYPE=cloudevent');
    expect(String(warned[0]!.explicit)).toContain('main.gcpEvent');
    // The line names the call it was given with, and never echoes the body.
    expect(warned[0]!.requestId).toBe(seen[0]!.ctx.requestId);
    expect(JSON.stringify(warned[0])).not.toContain('o-1');
  });

  it('off Cloud Functions (neither variable set): a plain call, silent', async () => {
    setEnv({});
    const { seen, lines, statuses } = await postAll([{ order: 'o-1' }]);
    expect(statuses).toEqual([204]);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'direct' });
    expect(warnings(lines)).toEqual([]);
  });

  it('FUNCTION_SIGNATURE_TYPE set to another signature: explicit, so silent', async () => {
    setEnv({ K_SERVICE: 'orders', FUNCTION_SIGNATURE_TYPE: 'http' });
    const { seen, lines } = await postAll([{ order: 'o-1' }]);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'direct' });
    expect(warnings(lines)).toEqual([]);
  });

  it('FUNCTION_SIGNATURE_TYPE=cloudevent: the body is a CloudEvent (MALFORMED_EVENT), not a direct call', async () => {
    setEnv({ K_SERVICE: 'orders', FUNCTION_SIGNATURE_TYPE: 'cloudevent' });
    const { seen, lines, statuses } = await postAll([{ order: 'o-1' }]);
    expect(seen).toEqual([]);
    expect(statuses).toEqual([500]);
    expect(warnings(lines)).toMatchObject([{ msg: 'malformed event', code: 'MALFORMED_EVENT' }]);
  });

  it('a direct call from code on Cloud Functions (main(input)) gets the same single note, main.invoke() none', async () => {
    setEnv({ K_SERVICE: 'orders' });
    const { seen, fn } = recorder(() => 'ok');
    const { lines, logSink } = logs();
    const main = handler({ logSink, logLevel: 'debug' }, fn);
    await expect(main.invoke({ n: 1 })).resolves.toBe('ok');
    expect(warnings(lines)).toEqual([]);
    await expect(main({ n: 2 })).resolves.toBe('ok');
    await expect(main({ n: 3 })).resolves.toBe('ok');
    expect(seen).toHaveLength(3);
    expect(warnings(lines)).toMatchObject([{ msg: ASSUMED_DIRECT }]);
  });
});
