/**
 * Where a manifest's segments are. A manifest names each segment by key; since the first
 * version the writer puts the whole key there (`<prefix>/backups/<id>/data/<dataset>/<n>.ndjson.gz`).
 * A reader never uses that key as it stands: a backup copied to another prefix would be read
 * (and verified) from the original, and fail once the original is gone. Each key is taken
 * relative to the backup's own folder — the part after `backups/<id>/`, or the key itself when
 * it already starts with `data/` — and resolved under the folder the manifest was read from.
 * A key that does not name a segment of this backup (`..`, a leading `/`, another backup id,
 * anything but `data/<dataset>/<file>`) is refused.
 */
import { BackupCorruptedError } from '../errors.js';

/** The part of a segment key after the backup's folder (`data/<dataset>/<file>`); undefined when it escapes the backup. */
export function segmentPath(key: string, backupId: string): string | undefined {
  if (key.startsWith('/')) return undefined;
  const marker = `backups/${backupId}/`;
  let rest: string;
  if (key.startsWith('data/')) rest = key;
  else if (key.startsWith(marker)) rest = key.slice(marker.length);
  else {
    const at = key.indexOf(`/${marker}`);
    if (at < 0) return undefined;
    rest = key.slice(at + 1 + marker.length);
  }
  const parts = rest.split('/');
  if (parts.length !== 3 || parts[0] !== 'data') return undefined;
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  return rest;
}

/**
 * Checks that every segment key names a segment of the manifest's own backup.
 *
 * @param manifestKey - The manifest's key, named in the error.
 * @throws {BackupCorruptedError} a key escapes the backup; the problem names the field (`datasets.<i>.segments.<j>.key`) and what was expected
 */
export function checkSegmentKeys(manifest: { backupId: string; datasets: ReadonlyArray<{ segments: ReadonlyArray<{ key: string }> }> }, manifestKey: string): void {
  manifest.datasets.forEach((dataset, i) =>
    dataset.segments.forEach((segment, j) => {
      if (segmentPath(segment.key, manifest.backupId) !== undefined) return;
      const field = `datasets.${i}.segments.${j}.key`;
      throw new BackupCorruptedError(`manifest field ${field} does not name a segment of backup ${manifest.backupId}`, [
        { key: manifestKey, message: `${field}: expected data/<dataset>/<file> under backups/${manifest.backupId}/ (no "..", no leading "/", no other backup id)` },
      ]);
    }),
  );
}

/**
 * The manifest with each segment key resolved under `backupFolder` (`<prefix>/backups/<id>`, the
 * folder its manifest was read from). Call after `checkSegmentKeys`.
 */
export function resolveSegmentKeys<M extends { backupId: string; datasets: ReadonlyArray<{ segments: ReadonlyArray<{ key: string }> }> }>(manifest: M, backupFolder: string): M {
  const datasets = manifest.datasets.map((dataset) => ({
    ...dataset,
    segments: dataset.segments.map((segment) => ({ ...segment, key: `${backupFolder}/${segmentPath(segment.key, manifest.backupId)!}` })),
  }));
  return { ...manifest, datasets };
}
