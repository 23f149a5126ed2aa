/**
 * A drill's marker in a MongoDB scratch database: the collection `steadyfn_drill_marker` holds
 * one document naming the drill, the backup storage it drilled from and the collections it
 * restored. It is written (after the drill found the scratch empty of the backup's datasets)
 * before the first write and removed last when the drill drops what it restored, so a drill
 * whose drop failed leaves it with its data: the next drill from the same storage finds it and
 * drops exactly those collections, and never anything a drill did not create.
 */
import type { ScratchMarker } from './targets.js';
import type { MongoDbLike } from '../sources/mongo.js';

/** The marker collection. */
export const SCRATCH_MARKER_COLLECTION = 'steadyfn_drill_marker';
const MARKER_ID = 'drill';
/** MongoDB's NamespaceNotFound: dropping a collection that is not there. */
const NAMESPACE_NOT_FOUND = 26;

function isNamespaceNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; codeName?: unknown };
  return e?.code === NAMESPACE_NOT_FOUND || e?.codeName === 'NamespaceNotFound';
}

/** Drops a collection; one that is not there is no failure, any other error is thrown. */
export async function dropCollection(db: MongoDbLike, name: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  try {
    await db.collection(name).drop();
  } catch (error) {
    if (!isNamespaceNotFound(error)) throw error;
  }
}

/** Writes the marker (replacing one left by an earlier drill, whose collections are gone by then). */
export async function writeScratchMarker(db: MongoDbLike, marker: ScratchMarker): Promise<void> {
  const doc = { _id: MARKER_ID, ...marker };
  await db.collection(SCRATCH_MARKER_COLLECTION).replaceOne({ _id: MARKER_ID }, doc, { upsert: true });
}

/** The marker a drill left, or undefined (none, or not a marker's shape: then nothing is taken for a drill's). */
export async function readScratchMarker(db: MongoDbLike): Promise<ScratchMarker | undefined> {
  const found = ((await db.collection(SCRATCH_MARKER_COLLECTION).findOne({ _id: MARKER_ID })) ?? undefined) as Record<string, unknown> | undefined;
  if (!found) return undefined;
  const { drillId, backupId, storage, startedAt, collections } = found;
  if (typeof drillId !== 'string' || typeof backupId !== 'string' || typeof storage !== 'string' || typeof startedAt !== 'string') return undefined;
  if (!Array.isArray(collections) || !collections.every((c) => typeof c === 'string')) return undefined;
  return { drillId, backupId, storage, startedAt, collections: collections as string[] };
}

/** Drops the collections the marker lists, then the marker. */
export async function clearScratch(db: MongoDbLike, marker: ScratchMarker, signal?: AbortSignal): Promise<void> {
  for (const name of marker.collections) await dropCollection(db, name, signal);
  await dropCollection(db, SCRATCH_MARKER_COLLECTION, signal);
}
