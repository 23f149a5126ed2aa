/**
 * Review s53 (rvs): the timers bounding a `get()` wait were unref'd, so a `custom` source whose
 * load holds no socket or timer let the event loop drain before the caller's deadline (or the
 * load's `timeoutMs`): the process ended with the call unanswered, and on Lambda the runtime
 * answered for the invocation — success, for an SQS batch (every message deleted unprocessed).
 * A waiter's timers, and the load's time limit while anyone waits, now hold the process.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChild, runChild } from '../../../test/support/bundle.js';

let dir: string | undefined;
let bundle: string;
beforeAll(() => {
  ({ file: bundle, dir } = bundleChild(new URL('./hold-child.ts', import.meta.url).href, { format: 'esm', banner: true }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the child to its end (killed after 20 s: a process kept alive is a failure too). */
const run = (scenario: string) => runChild(bundle, [scenario]);

describe('a get() waiting on a load that holds nothing is answered before the event loop drains', () => {
  it('with a deadline, fails at its own limit (half its remaining time), as with a load that holds a socket', async () => {
    expect(await run('get')).toEqual({ code: 0, out: 'rejected STATE_UNAVAILABLE\n', err: '' });
  });

  it('without a deadline, fails at the load time limit (timeoutMs)', async () => {
    expect(await run('limit')).toEqual({ code: 0, out: 'rejected STATE_UNAVAILABLE\n', err: '' });
  });

  it('through the handler, an SQS batch answers every message failed, never an empty (all done) answer', async () => {
    expect(await run('sqs')).toEqual({ code: 0, out: 'resolved {"batchItemFailures":[{"itemIdentifier":"m-1"},{"itemIdentifier":"m-2"}]}\n', err: '' });
  });
});
