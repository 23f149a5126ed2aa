/**
 * The note the root entry gives when it assumes a one-argument call on Cloud Functions is a
 * direct invocation. Kept apart from the Cloud Functions adapter so the direct adapter (which
 * every entry uses) does not pull that adapter into a bundle that never runs there.
 */
import { adapterLogger, type Definition, type Frame } from '../invoke.js';

/** The warn line of a one-argument call the root entry ran as `direct` on Cloud Functions. */
export const ASSUMED_DIRECT = 'one-argument call on Cloud Functions without FUNCTION_SIGNATURE_TYPE: ran it as a direct invocation';

// The handlers whose first unplaced call has been looked at (the note is given at most once).
const assumedDirectNoted = new WeakSet<object>();

/**
 * Names, once per handler, what the root entry assumed for a one-argument call it could not
 * place when the process runs on Cloud Functions / Cloud Run functions (`K_SERVICE` or
 * `FUNCTION_TARGET` set, as the platform sets them) and `FUNCTION_SIGNATURE_TYPE` is not set.
 * There the call may be a CloudEvent function's request body that is not a CloudEvent (the
 * Functions Framework hands it over as it is; a function registered with `functions.cloudEvent()`
 * sets no variable), which cannot be told from a plain call: it runs as `direct`, and a `warn`
 * line says so and how to make it explicit. Nothing is logged off Cloud Functions or when
 * `FUNCTION_SIGNATURE_TYPE` is set (`cloudevent` makes the call a CloudEvent; any other value
 * says it is not one).
 */
export function noteAssumedDirect(def: Definition, frame: Frame, requestId: string, env: Record<string, string | undefined> = process.env): void {
  if (assumedDirectNoted.has(def)) return;
  assumedDirectNoted.add(def);
  if (env.FUNCTION_SIGNATURE_TYPE !== undefined) return;
  const found = env.K_SERVICE !== undefined ? 'K_SERVICE' : env.FUNCTION_TARGET !== undefined ? 'FUNCTION_TARGET' : undefined;
  if (found === undefined) return;
  adapterLogger(def, frame, requestId).warn(ASSUMED_DIRECT, {
    assumed: 'direct',
    found,
    explicit: 'a CloudEvent function: set FUNCTION_SIGNATURE_TYPE=cloudevent or register main.gcpEvent (or use @steadyfn/handler/gcp); a plain call: main.invoke(input)',
  });
}
