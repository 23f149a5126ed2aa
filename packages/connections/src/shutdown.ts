/**
 * Graceful close on SIGTERM, which Cloud Functions / Cloud Run, OpenWhisk (container stop),
 * Azure and Lambda (when an extension is registered) send before stopping an instance.
 */
import { closeAll } from './registry.js';

export interface SigtermOptions {
  /** Give up on closing after this long; Lambda allows 500 ms at most. Default 400 ms. */
  timeoutMs?: number;
}

let uninstall: (() => void) | undefined;

/**
 * Closes every client on SIGTERM, then lets the signal do what it would have done: when no
 * other listener remains, it is raised again so the process ends as it would without us.
 * Installing twice keeps one listener. Returns a function that removes it.
 */
export function closeOnSigterm(options: SigtermOptions = {}): () => void {
  if (uninstall) return uninstall;
  const timeoutMs = options.timeoutMs ?? 400;
  const onSigterm = (): void => {
    remove();
    const bound = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref?.());
    void Promise.race([closeAll(), bound]).finally(() => {
      // Our listener replaced Node's default (exit); give the default back.
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };
  const remove = (): void => {
    process.removeListener('SIGTERM', onSigterm);
    uninstall = undefined;
  };
  process.on('SIGTERM', onSigterm);
  uninstall = remove;
  return remove;
}
