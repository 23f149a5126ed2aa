/**
 * A JSON object in S3 that only its current writer may replace: every write is conditional on
 * the ETag of the previous one (`If-Match`), the first on nothing being there
 * (`If-None-Match: *`). A refused write means another runner replaced it (fencing), so the
 * writer stops — unless the object holds exactly the bytes refused: the SDK resent a PUT whose
 * applied first attempt lost its reply, and the write is taken as done (with the ETag read). Writes are serialised; a state saved while a write is in flight is written
 * next (only the newest state matters).
 */
import type { z } from 'zod';
import { FencedError } from '../errors.js';
import { getStored } from '../format/stored.js';
import { getObject, type S3Location } from './client.js';
import { deleteIfUnchanged, putConditional } from './conditional.js';
import type { S3Capabilities } from './probe.js';

/** A chained JSON object (a checkpoint). */
export interface ChainedObject<T> {
  /** The value last read or written, with its ETag (undefined before the first write). */
  readonly etag: string | undefined;
  /** Writes `value` (serialised now); resolves when it, or a newer value, is stored. */
  save(value: T, signal?: AbortSignal): Promise<void>;
  /**
   * Deletes the object (after the work it described is committed), if it is still the version
   * this writer stored (checked by ETag just before the delete).
   * @throws {FencedError} another runner replaced it
   */
  remove(signal?: AbortSignal): Promise<void>;
}

/**
 * Reads the object at `key` (undefined when absent), checked against `stored.schema` — or by
 * `stored.parse` when given (a self-checksummed object) — and returns a writer chained to it,
 * which writes values as `stored.serialize` gives them (default `JSON.stringify`).
 * @throws {BackupCorruptedError | UnsupportedFormatError} the object is not what the schema says
 */
export async function openChainedObject<S extends z.ZodType>(
  loc: S3Location,
  caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>,
  key: string,
  stored: { schema: S; what: string; version?: number; parse?: (text: string, key: string) => z.infer<S>; serialize?: (value: z.infer<S>) => string },
  signal?: AbortSignal,
): Promise<{ value: z.infer<S> | undefined; object: ChainedObject<z.infer<S>> }> {
  type T = z.infer<S>;
  const found = stored.parse ? await readWith(loc, key, stored.parse, signal) : await getStored(loc, key, stored.schema, { what: stored.what, ...(stored.version === undefined ? {} : { version: stored.version }) }, signal);
  const serialize = stored.serialize ?? ((value: T) => JSON.stringify(value));
  let etag = found?.etag;
  let tail: Promise<void> = Promise.resolve();
  let pending: Promise<void> | undefined;
  let latest = '';
  let failure: unknown;

  const object: ChainedObject<T> = {
    get etag() {
      return etag;
    },
    save(value, signal) {
      if (failure) return Promise.reject(failure);
      latest = serialize(value);
      if (pending) return pending;
      const write = tail.then(async () => {
        pending = undefined;
        if (failure) throw failure;
        const body = latest;
        const result = await putConditional(loc, caps, key, etag, body, signal ? { signal } : {});
        if (result.written) {
          etag = result.etag;
          return;
        }
        // Refused: another runner replaced it — or the SDK resent this very PUT after its applied
        // first attempt lost its reply (a reset socket, a 5xx), and the retry met our own ETag.
        const current = await getObject(loc, key, signal ? { signal } : {});
        if (current?.etag === undefined || current.body.toString('utf8') !== body) throw (failure = new FencedError(`${key} was replaced by another runner`));
        etag = current.etag;
      });
      pending = write;
      tail = write.catch((error: unknown) => {
        failure ??= error;
      });
      return write;
    },
    async remove(signal) {
      await tail;
      // Only the writer of the stored version deletes it: a runner that was paused past its lease
      // must not delete the checkpoint of the runner that took over (or of a later run).
      // The delete is conditional too where the server supports it (S3, moto); elsewhere (gofakes3
      // ignores If-Match on DELETE) only the moment between the HEAD and the DELETE is unguarded.
      const outcome = await deleteIfUnchanged(loc, caps, key, etag ?? '', signal);
      if (outcome === 'changed') throw (failure = new FencedError(`${key} was replaced by another runner`));
      etag = undefined;
    },
  };
  return { value: found?.value, object };
}

async function readWith<T>(loc: S3Location, key: string, parse: (text: string, key: string) => T, signal?: AbortSignal): Promise<{ value: T; etag: string } | undefined> {
  const found = await getObject(loc, key, signal ? { signal } : {});
  return found ? { value: parse(found.body.toString('utf8'), key), etag: found.etag } : undefined;
}
