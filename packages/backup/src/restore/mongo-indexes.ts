/**
 * Index definitions compared: a restore target's existing indexes against the backup's (before
 * anything is written), and a drill's restored indexes against the manifest's. An index is
 * compared by name, key (fields and their order) and the options that change what it accepts
 * or keeps: `unique`, `sparse`, `partialFilterExpression`, `expireAfterSeconds`.
 *
 * FerretDB 1.24 has no TTL or partial indexes (`createIndex` answers NotImplemented) and
 * accepts `sparse` without keeping it (`listIndexes` never reports it): on FerretDB those three
 * options are left out of every comparison, and the drill report says so.
 */
import { EJSON } from 'bson';

/** An index definition: as the manifest stores it, or as `listIndexes` gives it. */
export interface IndexDefinition {
  name: string;
  key: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** The compared options, by name. */
export const COMPARED_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'] as const;

/** Options a FerretDB 1.x target cannot keep (see the module comment). */
export const FERRETDB_UNKEPT_OPTIONS: ReadonlyArray<(typeof COMPARED_OPTIONS)[number]> = ['sparse', 'partialFilterExpression', 'expireAfterSeconds'];

/** An index from `listIndexes` as the manifest keeps it (`v` and `ns` dropped; options in canonical Extended JSON). */
export function fromListed(listed: Record<string, unknown>): IndexDefinition {
  const { name, key, v: _v, ns: _ns, ...rest } = listed;
  return { name: String(name), key: (key ?? {}) as Record<string, unknown>, options: JSON.parse(EJSON.stringify(rest, { relaxed: false })) as Record<string, unknown> };
}

/** Canonical text of a key pattern (order kept: `{a:1,b:1}` and `{b:1,a:1}` are different indexes). Numbers compare by value (`1`, `1.0` and `{"$numberInt":"1"}` alike). */
function keyText(key: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(key).map(([field, dir]) => [field, direction(dir)]));
}

function direction(value: unknown): unknown {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object') {
    const wrapped = value as Record<string, unknown>;
    for (const tag of ['$numberInt', '$numberDouble', '$numberLong']) if (typeof wrapped[tag] === 'string') return Number(wrapped[tag]);
  }
  return value;
}

/** The compared options of a definition, normalised (`unique: false` is no option; numbers by value). */
function optionsOf(def: IndexDefinition, ignore: ReadonlyArray<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of COMPARED_OPTIONS) {
    if (ignore.includes(option)) continue;
    const value = def.options[option];
    if (value === undefined || value === false) continue;
    out[option] = option === 'expireAfterSeconds' ? String(direction(value)) : JSON.stringify(value);
  }
  return out;
}

/** How `a` (described as `aWhere`) differs from `b`, in words; empty when they are the same index. */
export function indexDifferences(a: IndexDefinition, b: IndexDefinition, where: { a: string; b: string }, ignore: ReadonlyArray<string> = []): string[] {
  const out: string[] = [];
  if (keyText(a.key) !== keyText(b.key)) out.push(`key ${JSON.stringify(a.key)} in ${where.a}, ${JSON.stringify(b.key)} in ${where.b}`);
  const [oa, ob] = [optionsOf(a, ignore), optionsOf(b, ignore)];
  for (const option of COMPARED_OPTIONS) {
    if (oa[option] !== ob[option]) out.push(`${option} ${oa[option] ?? 'not set'} in ${where.a}, ${ob[option] ?? 'not set'} in ${where.b}`);
  }
  return out;
}

/**
 * Why the backup's indexes cannot be created next to the target's existing ones, one line per
 * conflict (empty when none): the same name with another key or options; the same key under
 * another name (MongoDB and FerretDB refuse a second index on one key); a unique index in the
 * target that the backup does not define as unique on that key (the backup's documents may
 * break it).
 */
export function indexConflicts(existing: ReadonlyArray<IndexDefinition>, wanted: ReadonlyArray<IndexDefinition>, ignore: ReadonlyArray<string> = []): Array<{ index: string; message: string }> {
  const out: Array<{ index: string; message: string }> = [];
  const where = { a: 'the target', b: 'the backup' };
  for (const target of existing) {
    if (target.name === '_id_') continue;
    const sameName = wanted.find((w) => w.name === target.name);
    if (sameName) {
      const differences = indexDifferences(target, sameName, where, ignore);
      if (differences.length > 0) out.push({ index: target.name, message: `index ${target.name} differs: ${differences.join('; ')}` });
      continue;
    }
    const sameKey = wanted.find((w) => keyText(w.key) === keyText(target.key));
    if (sameKey) out.push({ index: target.name, message: `index ${target.name} in the target has the key of the backup's index ${sameKey.name} ${JSON.stringify(target.key)} under another name` });
    else if (target.options.unique === true) out.push({ index: target.name, message: `unique index ${target.name} ${JSON.stringify(target.key)} in the target is not in the backup: the backup's documents may break it` });
  }
  return out;
}
