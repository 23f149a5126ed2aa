/**
 * The admin MongoClient a test file uses to look at the shared FerretDB (MONGODB_URI) behind the
 * handle under test: what was stored, and the databases it made. `useMongoAdmin()` registers the
 * file's hooks: the service required and the client connected before its tests, the databases
 * named in `drop` dropped and the client closed after them.
 */
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { requireService } from '../../../../test/services/env.js';

/** The admin client's databases, ready once the file's `beforeAll` ran. */
export interface MongoAdmin {
  db(name: string): Db;
}

/**
 * Call at the top of a test file.
 * @param options.drop - Databases dropped after the file's tests (a failed drop is ignored). @default none
 */
export function useMongoAdmin(options: { drop?: readonly string[] } = {}): MongoAdmin {
  let client: MongoClient | undefined;
  beforeAll(async () => {
    await requireService('mongodb');
    client = await new MongoClient(process.env.MONGODB_URI ?? '').connect();
  });
  afterAll(async () => {
    for (const name of options.drop ?? []) await client?.db(name).dropDatabase().catch(() => undefined);
    await client?.close();
  });
  return {
    db(name) {
      if (client === undefined) throw new Error('useMongoAdmin(): the admin client is connected in beforeAll; use it in tests and their hooks');
      return client.db(name);
    },
  };
}
