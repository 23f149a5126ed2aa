/** Long-lived child processes of a test (a provider's runtime), ended and awaited when it is done. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../servers.js';

export interface Child {
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node <args>` in `cwd`; `process` is the child itself (for `killNow` at the test process's end). */
export function startChild(args: string[], cwd: string, env: NodeJS.ProcessEnv): Child & { exited: Promise<number | null>; process: ChildProcess } {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    exited,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * How long a provider's runtime may take to load an app and print its listening line. Generous:
 * on a loaded machine, with a test starting 5 to 15 of them at once, loading took over 20 s; a
 * process that exits is reported at once, so only a hung one waits this long.
 */
export const START_MS = 120_000;

/**
 * Waits until the child prints `line` (a server's own "listening on <port>" line), or throws with
 * its output when it exits or `timeoutMs` passes. Polling the port instead would also succeed when
 * another process took it between `freePort()` and the child's bind: requests would then reach
 * that process (on a loaded machine, another test's server).
 */
export async function waitForOutput(line: string, child: Child & { exited: Promise<number | null> }, timeoutMs = START_MS): Promise<void> {
  await waitForMatch(new RegExp(line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), child, timeoutMs);
}

/** As {@link waitForOutput}, for a line only a pattern names (a port the child chose): the match. */
export async function waitForMatch(pattern: RegExp, child: Child & { exited: Promise<number | null> }, timeoutMs = START_MS): Promise<RegExpExecArray> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !exited) {
    const match = pattern.exec(child.output());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} from the process (${exited ? 'it exited' : 'timed out'}): ${child.output().slice(-3000)}`);
}

/**
 * Starts a test's processes side by side, as `Promise.all` would, but when a start fails, every
 * start that succeeded is stopped before the first failure is thrown. With `Promise.all` they went
 * on running (holding their ports, reading the test's queues) until the test worker exited. Waits
 * for every start to settle: each is bounded (START_MS) and stops its own process when it fails.
 */
export async function startAllOrNone<T extends Pick<Child, 'stop'>>(starts: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  await Promise.allSettled(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])));
  throw failed.reason;
}

export { freePort };
