/**
 * Review s55 (rvl), through the real Lambda Node runtime (`aws-lambda-ric`, as lambda-ric.test.ts
 * runs it against the loopback Runtime API): what the runtime logs for a validation failure.
 * aws-lambda-ric 4.x logs every error it is thrown as its `Invoke Error` line with every
 * enumerable property (TEXT format: `withEnumerableProperties`; JSON format: `jsonErrorReplacer`)
 * — what lands in CloudWatch — while it posts only `errorType`, `errorMessage` and `trace` to the
 * caller. The thrown error's `errors` held each zod issue whole, so a refinement's message that
 * quotes the input (`card 4111-secret-99 is not 16 digits`) was written to the log. Now the
 * line names the field only, in both log formats.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambda, type LambdaFunction } from '../../../../../test/support/examples/lambda.js';
import { installBuiltHandler } from '../../support/deployment.js';

const SECRET = '4111-secret-99';

const FUNCTION = `import { handler } from '@steadyfn/handler';
import { z } from 'zod';
const Order = z.object({ card: z.string().refine((v) => v.length === 16, { error: (i) => 'card ' + String(i.input) + ' is not 16 digits' }) });
export const main = handler({ input: Order }, () => 'charged');
`;

let taskRoot = '';
const runtimes: Partial<Record<'TEXT' | 'JSON', LambdaFunction>> = {};

beforeAll(async () => {
  taskRoot = mkdtempSync(join(tmpdir(), 'steadyfn-lambda-invoke-error-'));
  await installBuiltHandler(taskRoot);
  writeFileSync(join(taskRoot, 'index.mjs'), FUNCTION);
  for (const format of ['TEXT', 'JSON'] as const) {
    runtimes[format] = await startLambda(taskRoot, 'index.main', { PATH: process.env.PATH ?? '', TZ: 'UTC', AWS_REGION: 'eu-west-1', AWS_LAMBDA_LOG_FORMAT: format });
  }
}, 120_000);

afterAll(async () => {
  for (const fn of Object.values(runtimes)) await fn?.stop();
  if (taskRoot) rmSync(taskRoot, { recursive: true, force: true });
});

/** The runtime's `Invoke Error` line, once written (bounded: the child may flush after it posted). */
async function invokeErrorLine(fn: LambdaFunction): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = fn.output().split('\n').find((l) => l.includes('Invoke Error') || (l.includes('"errorType"') && l.includes('VALIDATION_FAILED')));
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

describe("aws-lambda-ric's Invoke Error line for a validation failure", () => {
  for (const format of ['TEXT', 'JSON'] as const) {
    it(`${format} log format: names the field, never the input a refinement's message quotes`, async () => {
      const fn = runtimes[format]!;
      const result = await fn.invoke({ card: SECRET });
      expect(result.outcome).toBe('error');
      expect(result.body).toMatchObject({ errorType: 'VALIDATION_FAILED', errorMessage: 'VALIDATION_FAILED: Input failed validation' });
      const line = await invokeErrorLine(fn);
      expect(line, fn.output().slice(-2000)).toBeDefined();
      expect(line).toContain('"errors":[{"field":"card"}]');
      expect(fn.output()).not.toContain(SECRET);
    });
  }
});
