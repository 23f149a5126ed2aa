/**
 * Runs a bundled child process (test/child/*) until it exits, or kills it with SIGKILL as soon
 * as its stdout matches `killWhen`. `errors` are its stderr lines other than Node's and the
 * SDK's notices (a child that failed says `child failed: <class> <code>`).
 */
import { spawn } from 'node:child_process';

export async function runChild(file: string, env: Record<string, string>, killWhen?: RegExp): Promise<{ output: string; killed: boolean; errors: string[] }> {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  let killed = false;
  child.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (killWhen && !killed && killWhen.test(output)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // A child may kill itself (a kill point inside it).
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') killed = true;
      resolve();
    });
    child.on('error', reject);
  });
  return { output, killed, errors: errors.split('\n').filter((l) => !/Warning|versions published|require node|continue receiving|security updates|a.co\/|trace-warnings|^$/.test(l)) };
}
