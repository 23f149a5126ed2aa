/**
 * Review s53 (rvs): the deadline watch timer was unref'd, so a function awaiting what holds no
 * socket or timer let the event loop drain before its deadline; the Lambda Node runtime then
 * answers for the invocation (older aws-lambda-ric: a `null` response, success, on `beforeExit`;
 * 4.x: the process exits unanswered). The watch now holds the process while an invocation is in
 * flight, and lets it go when none is.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChild, runChild } from '../../../test/support/bundle.js';

let dir: string | undefined;
let bundle: string;
beforeAll(() => {
  ({ file: bundle, dir } = bundleChild(new URL('./support/hold-child.ts', import.meta.url).href, { format: 'esm' }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the child to its end (killed after 20 s: a process kept alive is a failure too). */
const run = (scenario: string) => runChild(bundle, [scenario]);

describe('the deadline holds the process while an invocation is in flight', () => {
  it('answers DEADLINE_EXCEEDED for a function awaiting a promise that holds nothing, before the event loop drains', async () => {
    expect(await run('stuck')).toEqual({ code: 0, out: 'rejected DEADLINE_EXCEEDED\n', err: '' });
  });

  it('withTimeout rejects at its bound for work that holds nothing, before the event loop drains', async () => {
    expect(await run('timeout')).toEqual({ code: 0, out: 'rejected TIMED_OUT\n', err: '' });
  });

  it('lets an idle warm process exit: after a finished invocation and one cut off at its deadline, nothing of ours is held', async () => {
    expect(await run('idle')).toEqual({ code: 0, out: 'resolved "v"\nrejected DEADLINE_EXCEEDED\n', err: '' });
  });
});
