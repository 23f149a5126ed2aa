/**
 * A drill's comparison of the restored indexes with the manifest's: every index of the backup
 * present under its name with the same key, `unique`, `sparse`, `partialFilterExpression` and
 * `expireAfterSeconds`, and no other index. Options the target's server does not keep
 * (FerretDB 1.x: `sparse`, `partialFilterExpression`, `expireAfterSeconds`) are left out, and
 * indexes the target skipped on purpose (TTL indexes on FerretDB with
 * `unsupportedMetadata: 'skip'`) are not expected: both are listed in `notes`.
 */
import type { ManifestDataset } from '../format/manifest.js';
import { indexDifferences } from '../restore/mongo-indexes.js';
import type { RestoreTarget } from '../restore/targets.js';

/** What a drill found comparing one dataset's indexes. */
export interface DrillIndexCheck {
  /** Indexes of the backup compared. */
  compared: number;
  ok: boolean;
  /** Each difference, in words (index name, and what differs). */
  differences: string[];
  /** What was left out of the comparison, and why. */
  notes: string[];
}

/** Compares the restored indexes of `dataset` with the manifest's; `undefined` for a target without indexes (Redis). */
export async function compareDrillIndexes(dataset: ManifestDataset, scratch: RestoreTarget, signal?: AbortSignal): Promise<DrillIndexCheck | undefined> {
  if (!scratch.readIndexes || dataset.kind !== 'mongodb-collection') return undefined;
  const { indexes: restored, unkeptOptions, skipped } = await scratch.readIndexes(dataset, signal);
  const expected = (dataset.indexes ?? []).filter((i) => !skipped.includes(i.name));
  const differences: string[] = [];
  const where = { a: 'the restore', b: 'the manifest' };
  for (const want of expected) {
    const got = restored.find((i) => i.name === want.name);
    if (!got) differences.push(`index ${want.name} ${JSON.stringify(want.key)} is missing from the restore`);
    else {
      const diff = indexDifferences(got, want, where, unkeptOptions);
      if (diff.length > 0) differences.push(`index ${want.name} differs: ${diff.join('; ')}`);
    }
  }
  for (const extra of restored) if (!expected.some((w) => w.name === extra.name)) differences.push(`index ${extra.name} ${JSON.stringify(extra.key)} is in the restore, not in the manifest`);
  const notes: string[] = [];
  if (unkeptOptions.length > 0) notes.push(`not compared: ${unkeptOptions.join(', ')} (the target's server does not keep them)`);
  for (const name of skipped) notes.push(`index ${name} skipped by the target (unsupportedMetadata: 'skip'), not expected`);
  return { compared: expected.length, ok: differences.length === 0, differences, notes };
}
