/**
 * Graceful close on SIGTERM, which Cloud Functions / Cloud Run, OpenWhisk (container stop),
 * Azure and Lambda (when an extension is registered) send before stopping an instance.
 */
import { checkKnownKeys, keysOf, MAX_TIMER_MS, msOption } from '@steadyfn/handler/internal';
import { detectPlatform } from './profiles.js';
import { closeAll } from './registry.js';

/** The default `timeoutMs` for the detected platform (see `SigtermOptions.timeoutMs`). */
function defaultSigtermMs(): number {
  return detectPlatform() === 'gcp' ? 5_000 : 250;
}

/** Options of `closeOnSigterm`. */
export interface SigtermOptions {
  /**
   * Give up on closing after this many ms, then raise SIGTERM again. The default depends on the
   * detected platform (`detectPlatform()`, read when this is called):
   * - Cloud Run / Cloud Functions (`gcp`): 5,000 ms — SIGTERM starts a documented 10 s period
   *   before SIGKILL; half of it leaves the rest to the process's other SIGTERM listeners.
   * - everywhere else: 250 ms — Lambda's shutdown phase, the tightest: Lambda sends SIGTERM to the
   *   runtime only when an extension is registered, and gives the runtime up to 300 ms of the
   *   phase when the extensions are external (2,000 ms in all; the rest is theirs) and 500 ms with
   *   an internal extension, then SIGKILL; 250 ms leaves a 50 ms margin to raise the signal again
   *   and exit before it. Azure and OpenWhisk document no bound, so they get the same.
   *
   * Raise it where closing takes longer (a MongoClient with many pooled connections) and the
   * platform allows it, by calling this at module scope, before the plugin installs its own (the
   * first install is kept). At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 5000 on gcp, else 250
   */
  timeoutMs?: number | undefined;
}

let uninstall: (() => void) | undefined;

// Unknown keys are refused: `timeout` would leave the default in force.
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
 * closeOnSigterm({ timeoutMs: 2_000 }); // Cloud Run: 10 s between SIGTERM and SIGKILL
 */
export function closeOnSigterm(options: SigtermOptions = {}): () => void {
  checkKnownKeys('closeOnSigterm', '', options, SIGTERM_KEYS);
  const timeoutMs = msOption('closeOnSigterm', 'timeoutMs', options.timeoutMs, defaultSigtermMs(), 1, MAX_TIMER_MS);
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
