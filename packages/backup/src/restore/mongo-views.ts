/**
 * A MongoDB target's views: the manifest's `views` (sources/mongo-views.ts) recreated once every
 * collection is written, with `createCollection(name, { viewOn, pipeline, collation })`, as
 * mongorestore does. FerretDB cannot create views (`create: support for field "viewOn" … is not
 * implemented yet`): a backup holding views is refused there, or its views skipped with
 * `unsupportedMetadata: 'skip'`, as its other unsupported metadata.
 */
import { EJSON } from 'bson';
import { RestoreApplyError, describeError } from '../errors.js';
import type { Manifest, ManifestView } from '../format/manifest.js';
import type { MongoDbLike } from '../sources/mongo.js';

/** MongoDB's NamespaceExists: a collection or view of that name is there. */
const NAMESPACE_EXISTS = 48;

/** The views of `manifest` as FerretDB problems (it cannot create them). */
export function ferretViewProblems(manifest: Manifest): Array<{ key: string; message: string }> {
  return (manifest.views ?? []).map((view) => ({ key: view.name, message: 'view (FerretDB cannot create views)' }));
}

/**
 * Creates each view of `views` under its mapped name, reading the mapped `viewOn`. A view (or
 * collection) already there under that name is left as it is: a restore run again goes on, and
 * a restore never deletes (a `$lookup` in a pipeline names collections as backed up).
 * @throws {RestoreApplyError} the server refused to create a view (its class and code only)
 */
export async function recreateViews(db: MongoDbLike, views: ManifestView[], rename: (name: string) => string, signal?: AbortSignal): Promise<void> {
  for (const view of views) {
    signal?.throwIfAborted();
    const options = {
      viewOn: rename(view.viewOn),
      pipeline: EJSON.parse(view.pipeline, { relaxed: false }) as unknown[],
      ...(view.collation === undefined ? {} : { collation: EJSON.parse(JSON.stringify(view.collation), { relaxed: false }) as Record<string, unknown> }),
    };
    try {
      await (db as unknown as { createCollection(n: string, o: unknown): Promise<unknown> }).createCollection(rename(view.name), options);
    } catch (error) {
      if ((error as { code?: unknown }).code === NAMESPACE_EXISTS) continue;
      throw new RestoreApplyError(`creating view ${rename(view.name)} on ${rename(view.viewOn)} failed (${describeError(error)})`, error);
    }
  }
}

/** The names a restore of `manifest`'s views writes (mapped): a drill's scratch drops them with its collections. */
export function viewNames(manifest: Manifest, rename: (name: string) => string): string[] {
  return (manifest.views ?? []).map((view) => rename(view.name));
}
