/**
 * Finding a key's top generation. FerretDB 1.24 pushes down only `_id` equality: a point read
 * is a lookup in SQL, any other query decodes every record of the collection (measured under
 * 252 concurrent callers: ~390 lookups/s against ~64 `find({ k })`/s on a 63-record
 * collection; at 5,000 records a lookup that finds nothing still reads every row in SQL). So a key this
 * process has seen is read by `_id`, walking up from the last generation it saw, and by a
 * query only when the walk cannot settle it (a key it has not seen is read by the query):
 *
 *   - the walk's top is live: enough to report it (a live done record has no successor, so one
 *     lookup finds it; a live held one read below a deleted successor can only err towards
 *     "in progress");
 *   - the walk's top is young (written < YOUNG_MS ago): enough to build on, because nothing
 *     above a young generation can have been deleted yet (deletions wait SUPERSEDED_GRACE_MS);
 *   - otherwise (start missing, an old dead top, a long walk): one query for all such keys.
 */
import { raceSignal as abortable } from '@steadyfn/handler/internal';
import { LeaseRecordUnreadableError } from '../errors.js';
import { PROMOTED, byKey, docId, isDocument, type LeaseDocument, type MongoLeaseCollection, type MongoLeaseSession } from './mongodb-docs.js';

/** What a read found for one key. */
export interface Located {
  /** The highest generation, or undefined when the key has none. */
  top: LeaseDocument | undefined;
  /** Every generation read (for sweeping superseded ones). */
  seen: LeaseDocument[];
}

export interface ReadOptions {
  signal?: AbortSignal;
  session?: MongoLeaseSession;
}

/** Longest walk before a query is cheaper. */
const WALK_LIMIT = 6;
const MAX_HINTS = 10_000;

export interface TopReader {
  /**
   * The top of each key. `enough.settles(top)` says whether a top found by walking settles the
   * key; keys it does not settle are read by one query. `enough: false` reads every key by query.
   */
  locate(
    col: MongoLeaseCollection,
    keys: string[],
    options: ReadOptions | undefined,
    enough: false | { settles(top: LeaseDocument): boolean; isLiveDone(doc: LeaseDocument): boolean },
    starts?: ReadonlyMap<string, number>,
  ): Promise<Map<string, Located>>;
  /** Remembers that generation `g` of `key` exists (a read or an insert saw it). */
  note(key: string, g: number): void;
}

/** The document under `_id` `id`, whatever it holds. */
async function point(col: MongoLeaseCollection, id: string, options: ReadOptions | undefined): Promise<LeaseDocument | undefined> {
  const found = await abortable(col.find({ _id: id }, options?.session ? { ...PROMOTED, session: options.session, limit: 1 } : { ...PROMOTED, limit: 1 }).toArray(), options?.signal);
  return found[0] as LeaseDocument | undefined;
}

/**
 * Checks `_id`s an insert was refused for as duplicates (`<key>#<g>`, each `refused` entry)
 * although a read of the key since found no generation g: normally a racer's generation the read
 * missed, or one deleted since; but a document there that is not generation g of the key (no
 * `k`, another key's, another shape) is another program's, which no read of the key ever finds
 * and no insert gets past — claims would answer "held by nobody" for good.
 * Resolves to what it read under each `_id`: generation g of the key, or undefined (gone since).
 * @throws LeaseRecordUnreadableError (`collection`) for such a document.
 */
export async function checkRefused(col: MongoLeaseCollection, refused: Array<{ key: string; g: number }>, options: ReadOptions | undefined): Promise<Array<LeaseDocument | undefined>> {
  const found = await Promise.all(refused.map((r) => point(col, docId(r.key, r.g), options)));
  found.forEach((doc, i) => {
    if (doc !== undefined && !(isDocument(doc) && doc.k === refused[i]!.key)) throw new LeaseRecordUnreadableError('collection');
  });
  return found;
}

export function topReader(): TopReader {
  const hints = new Map<string, number>();

  const note = (key: string, g: number): void => {
    if ((hints.get(key) ?? 0) >= g) return;
    hints.delete(key);
    if (hints.size >= MAX_HINTS) hints.delete(hints.keys().next().value!);
    hints.set(key, g);
  };

  /**
   * Walks up from the hint; undefined when the walk does not settle the key. A live done
   * generation is the top (nothing follows it while it lives), so it takes one lookup; anything
   * else is confirmed by looking one above.
   */
  const walk = async (
    col: MongoLeaseCollection,
    key: string,
    options: ReadOptions | undefined,
    enough: (top: LeaseDocument) => boolean,
    isLiveDone: (doc: LeaseDocument) => boolean,
    start?: number,
  ): Promise<Located | undefined> => {
    const from = start ?? hints.get(key);
    // A key this process has not seen is most likely new: one query answers that, where a walk would not.
    if (from === undefined) return undefined;
    let g = from;
    const first = await point(col, docId(key, g), options);
    if (!first) return undefined;
    byKey([first]); // checks the document's shape
    if (isLiveDone(first)) return enough(first) ? { top: first, seen: [first] } : undefined;
    const seen = [first];
    let top = first;
    for (let steps = 0; ; steps++) {
      const next = await point(col, docId(key, g + 1), options);
      if (!next) break;
      if (steps >= WALK_LIMIT) return undefined;
      byKey([next]);
      seen.push(next);
      top = next;
      g++;
    }
    return enough(top) ? { top, seen } : undefined;
  };

  return {
    note,
    async locate(col, keys, options, enough, starts) {
      const out = new Map<string, Located>();
      const walked = enough ? await Promise.all(keys.map((key) => walk(col, key, options, enough.settles, enough.isLiveDone, starts?.get(key)))) : [];
      const rest: string[] = [];
      keys.forEach((key, i) => {
        const found = walked[i];
        if (found) out.set(key, found);
        else rest.push(key);
      });
      if (rest.length > 0) {
        const filter = rest.length === 1 ? { k: rest[0] } : { k: { $in: rest } };
        const docs = byKey(await abortable(col.find(filter, options?.session ? { ...PROMOTED, session: options.session } : PROMOTED).toArray(), options?.signal));
        for (const key of rest) {
          const entry = docs.get(key);
          out.set(key, entry ? { top: entry.top, seen: entry.all } : { top: undefined, seen: [] });
        }
      }
      for (const [key, found] of out) if (found.top) note(key, found.top.g);
      return out;
    },
  };
}
