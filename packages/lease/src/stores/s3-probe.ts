/**
 * The S3 lease store's start-up probe: the server must refuse `If-None-Match: *` on an existing
 * object and `If-Match` with another ETag, or no lease could keep two holders apart. Run once
 * per client, bucket and prefix in a process; a refusal stands, any other failure is tried again.
 */
import { randomUUID } from '@steadyfn/handler/internal';
import { LeaseStoreUnsupportedError } from '../errors.js';
import { deleteObject, putObject, statusOf, type S3LeaseClient } from './s3-client.js';

/** The probe of each client, bucket and prefix, run once per process. */
const probes = new WeakMap<object, Map<string, Promise<{ conditionalWrites: true }>>>();

/** Probes `bucket` under `prefix` with `client` once (see the module comment); writes and deletes one object under `<prefix>.probe/`. */
export function probeOnce(client: S3LeaseClient, bucket: string, prefix: string, signal: AbortSignal | undefined): Promise<{ conditionalWrites: true }> {
  let byTarget = probes.get(client);
  if (!byTarget) probes.set(client, (byTarget = new Map()));
  const id = `${bucket}\u0000${prefix}`;
  let found = byTarget.get(id);
  if (!found) {
    found = runProbe(client, bucket, `${prefix}.probe/${randomUUID()}`, signal);
    byTarget.set(id, found);
    // A refusal stands; anything else (the server was down) is tried again next call.
    found.catch((error: unknown) => {
      if (!(error instanceof LeaseStoreUnsupportedError)) byTarget.delete(id);
    });
  }
  return found;
}

/** True when `write` is refused with 412 (or another 4xx a server uses for an unsupported condition). */
async function refused(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return false;
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined && status >= 400 && status < 500) return true;
    throw error;
  }
}

/** What a server must do for the lease store: conditional writes, as AWS S3 has done since 2024. */
const CONDITIONAL_WRITES = 'an S3 server with conditional writes (If-None-Match: * and If-Match refused on a mismatch with 412)';

async function runProbe(client: S3LeaseClient, bucket: string, key: string, signal: AbortSignal | undefined): Promise<{ conditionalWrites: true }> {
  try {
    const etag = await putObject(client, bucket, key, '{}', signal, { ifNoneMatch: '*' });
    if (!(await refused(() => putObject(client, bucket, key, '{}', signal, { ifNoneMatch: '*' })))) {
      throw new LeaseStoreUnsupportedError('if-none-match', 'the S3 server overwrote an existing object despite If-None-Match: * (no conditional writes)', CONDITIONAL_WRITES);
    }
    if (!(await refused(() => putObject(client, bucket, key, '{}', signal, { ifMatch: '"00000000000000000000000000000000"' })))) {
      throw new LeaseStoreUnsupportedError('if-match', 'the S3 server overwrote an object whose ETag differs from If-Match (no conditional writes)', CONDITIONAL_WRITES);
    }
    await putObject(client, bucket, key, '{}', signal, { ifMatch: etag });
    return { conditionalWrites: true };
  } finally {
    await deleteObject(client, bucket, key, undefined).catch(() => undefined);
  }
}
