/** Filling a bench collection: `count` user-shaped documents with numeric `_id`s, 10,000 per insert. */
import type { Db } from 'mongodb';

// Bench documents with numeric _ids.
type Doc = { _id: number; [field: string]: unknown };

/** Inserts documents `{ _id, name, active, score, ...extra(i) }` for i in [0, count). */
export async function fillUsers(db: Db, name: string, count: number, extra: (i: number) => Record<string, unknown>): Promise<void> {
  for (let start = 0; start < count; start += 10_000) {
    const n = Math.min(10_000, count - start);
    await db.collection<Doc>(name).insertMany(
      Array.from({ length: n }, (_, k) => {
        const i = start + k;
        return { _id: i, name: `user-${i}`, active: i % 2 === 0, score: i * 1.5, ...extra(i) };
      }),
      { ordered: false },
    );
  }
}
