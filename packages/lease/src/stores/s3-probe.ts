/**
 * The S3 lease store's start-up probe: the server must refuse `If-None-Match: *` on an existing
 * object and `If-Match` with another ETag, or no lease could keep two holders apart. Run once
 * per client, bucket and prefix in a process; a refusal stands, any other failure is tried again.
 *
 * The probe is shared by every call that waits for it, so it runs with no caller's signal:
 * bounded by its own `PROBE_MS` (its clean-up DELETE by `PROBE_CLEANUP_MS`), while each caller
 * races its own signal against it (`raceSignal`) — a caller that gives up neither fails the
 * others nor waits for the probe's requests (as the MongoDB store's probe, `mongodb.ts`).
 */
import { raceSignal, randomUUID } from '@steadyfn/handler/internal';
import { LeaseStoreUnsupportedError } from '../errors.js';
import { deleteObject, putObject, statusOf, type S3LeaseClient } from './s3-client.js';

/** How long the shared probe's writes may take in all before it fails (a `TimeoutError`: the endpoint unreachable), in milliseconds. */
export const PROBE_MS = 10_000;
/** How long the probe's clean-up DELETE may take, in milliseconds; a DELETE that fails leaves one small object under `<prefix>.probe/`. */
export const PROBE_CLEANUP_MS = 2_000;

/** The probe of each client, bucket and prefix, run once per process. */
const probes = new WeakMap<object, Map<string, Promise<{ conditionalWrites: true }>>>();

/**
 * Probes `bucket` under `prefix` with `client` once (see the module comment); writes and deletes
 * one object under `<prefix>.probe/`. Rejects with `signal.reason` as soon as `signal` aborts;
 * the shared probe goes on for the other callers.
 */
export function probeOnce(client: S3LeaseClient, bucket: string, prefix: string, signal: AbortSignal | undefined): Promise<{ conditionalWrites: true }> {
  let byTarget = probes.get(client);
  if (!byTarget) probes.set(client, (byTarget = new Map()));
  const id = `${bucket}\u0000${prefix}`;
  let found = byTarget.get(id);
  if (!found) {
    const shared = runProbe(client, bucket, `${prefix}.probe/${randomUUID()}`);
    found = shared;
    byTarget.set(id, shared);
    // A refusal stands; anything else (the server was down) is tried again next call.
    shared.catch((error: unknown) => {
      if (!(error instanceof LeaseStoreUnsupportedError) && byTarget.get(id) === shared) byTarget.delete(id);
    });
  }
  return raceSignal(found, signal);
}

/**
 * The server refused the conditional header itself rather than the condition: 501
 * `NotImplemented`, or a 400 whose code or message names `If-None-Match` / `If-Match`.
 */
function refusesHeader(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 501) return true;
  if (status !== 400) return false;
  const { name, message, Code } = (error ?? {}) as { name?: unknown; message?: unknown; Code?: unknown };
  return [name, message, Code].some((text) => typeof text === 'string' && /if-(none-)?match|notimplemented/i.test(text));
}

/** What a server must do for the lease store: conditional writes, as AWS S3 has done since 2024. */
const CONDITIONAL_WRITES = 'an S3 server with conditional writes (If-None-Match: * and If-Match refused on a mismatch with 412)';

/** `putObject` with `condition`, a refusal of the header itself (`refusesHeader`) thrown as `LeaseStoreUnsupportedError`. */
async function put(client: S3LeaseClient, bucket: string, key: string, signal: AbortSignal, condition: { ifNoneMatch?: '*'; ifMatch?: string }): Promise<string> {
  try {
    return await putObject(client, bucket, key, '{}', signal, condition);
  } catch (error) {
    if (!refusesHeader(error)) throw error;
    const check = condition.ifNoneMatch ? 'if-none-match' : 'if-match';
    const header = condition.ifNoneMatch ? 'If-None-Match' : 'If-Match';
    throw new LeaseStoreUnsupportedError(check, `the S3 server refused a PUT with ${header} (HTTP ${statusOf(error)}: no conditional writes)`, CONDITIONAL_WRITES);
  }
}

/**
 * True when `write` is refused with 412 (or another 4xx a server uses for a failed condition).
 * Only for a header the probe has already seen accepted: there a 400 naming it is the
 * condition's refusal, not the header's (`put` would keep it as unsupported for the process).
 */
async function refused(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return false;
  } catch (error) {
    if (error instanceof LeaseStoreUnsupportedError) throw error;
    const status = statusOf(error);
    if (status !== undefined && status >= 400 && status < 500) return true;
    throw error;
  }
}

/** The probe's writes, then its clean-up; past `PROBE_MS` it rejects with the bound's `TimeoutError` (read as unreachable). */
async function runProbe(client: S3LeaseClient, bucket: string, key: string): Promise<{ conditionalWrites: true }> {
  const signal = AbortSignal.timeout(PROBE_MS);
  try {
    // `put` (a refused header is unsupported) only for each header's first use: the first PUT
    // proves If-None-Match is accepted, so the second one's 4xx is the condition failing.
    const etag = await put(client, bucket, key, signal, { ifNoneMatch: '*' });
    if (!(await refused(() => putObject(client, bucket, key, '{}', signal, { ifNoneMatch: '*' })))) {
      throw new LeaseStoreUnsupportedError('if-none-match', 'the S3 server overwrote an existing object despite If-None-Match: * (no conditional writes)', CONDITIONAL_WRITES);
    }
    if (!(await refused(() => put(client, bucket, key, signal, { ifMatch: '"00000000000000000000000000000000"' })))) {
      throw new LeaseStoreUnsupportedError('if-match', 'the S3 server overwrote an object whose ETag differs from If-Match (no conditional writes)', CONDITIONAL_WRITES);
    }
    await putObject(client, bucket, key, '{}', signal, { ifMatch: etag });
    return { conditionalWrites: true };
  } catch (error) {
    // The SDK rejects an aborted request with its own AbortError: the bound's reason says what happened.
    throw signal.aborted && !(error instanceof LeaseStoreUnsupportedError) ? signal.reason : error;
  } finally {
    await deleteObject(client, bucket, key, AbortSignal.timeout(PROBE_CLEANUP_MS)).catch(() => undefined);
  }
}
