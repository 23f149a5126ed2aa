/**
 * Graceful close on SIGTERM, which Cloud Functions / Cloud Run, OpenWhisk (container stop),
 * Azure and Lambda (when an extension is registered) send before stopping an instance.
 */
import { checkKnownKeys, keysOf, MAX_TIMER_MS, msOption } from '@steadyfn/handler/internal';
import { closeAll } from './registry.js';

/** Options of `closeOnSigterm`. */
export interface SigtermOptions {
  /**
   * Give up on closing after this many ms; Lambda allows 500 ms at most after SIGTERM. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 400
   */
  timeoutMs?: number | undefined;
}

let uninstall: (() => void) | undefined;

// Unknown keys are refused: `timeout` would leave the 400 ms default in force.
const SIGTERM_KEYS = keysOf<SigtermOptions>({ timeoutMs: true });

/**
 * Closes every client on SIGTERM (Redis `QUIT`, `MongoClient.close()`, SDK `destroy()`), then
 * lets the signal do what it would have done: when no other listener remains, it is raised
 * again so the process ends as it would without us. Installing twice keeps one listener.
 * The `connections` plugin installs it when it detects a platform.
 *
 * @returns A function that removes the listener.
 * @throws ConfigurationError (`CONFIG_INVALID`) when `timeoutMs` is not a whole number of ms from 1 to 2147483647.
 * @example
 * closeOnSigterm({ timeoutMs: 300 });
 */
export function closeOnSigterm(options: SigtermOptions = {}): () => void {
  checkKnownKeys('closeOnSigterm', '', options, SIGTERM_KEYS);
  const timeoutMs = msOption('closeOnSigterm', 'timeoutMs', options.timeoutMs, 400, 1, MAX_TIMER_MS);
  if (uninstall) return uninstall;
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
