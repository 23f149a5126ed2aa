/**
 * `mongo()`: a MongoClient with the serverless profile (small pool, idle connections
 * closed, polling monitor) and `{ ping: 1 }` as the thaw check. The client value is
 * `{ client, db }` so a function reaches its database directly (`ctx.mongo.db`).
 */
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import type { Provider } from '@steadyfn/handler';
import { defineClient, type ClientHandle } from '../handle.js';
import { profileFor } from '../profiles.js';
import { handleOptions, type HandleOptions } from './options.js';

export interface MongoClientHandleOptions extends HandleOptions {
  /** Connection string; default `process.env.MONGODB_URI`. */
  uri?: string;
  /** Database for `db`; default the one named in the URI, else `test` (the driver's default). */
  db?: string;
  /** Driver options; each one overrides the platform profile. */
  options?: MongoClientOptions;
  provider?: Provider;
}

export interface MongoConnection {
  client: MongoClient;
  db: Db;
}

export type MongoHandle = ClientHandle<MongoConnection>;

interface ServerStatus {
  connections?: { current?: number; available?: number };
}

export function mongo(options: MongoClientHandleOptions = {}): MongoHandle {
  const settings: MongoClientOptions = { ...profileFor(options.provider).mongo, ...options.options };
  return defineClient<MongoConnection>({
    ...handleOptions(options, 'mongo'),
    async create() {
      const uri = options.uri ?? process.env.MONGODB_URI;
      if (!uri) throw new Error('no MongoDB URI: pass `uri` or set MONGODB_URI');
      const { MongoClient } = await import('mongodb');
      const client = new MongoClient(uri, settings);
      try {
        await client.connect();
      } catch (err) {
        await client.close().catch(() => undefined);
        throw err;
      }
      return { client, db: client.db(options.db) };
    },
    ping: ({ client }) => client.db('admin').command({ ping: 1 }),
    close: ({ client }) => client.close(),
    // current + available is the server's limit; servers that hide it give no reading.
    readBudget: async ({ client }) => {
      const status = (await client.db('admin').command({ serverStatus: 1 })) as ServerStatus;
      const current = status.connections?.current;
      const available = status.connections?.available;
      if (typeof current !== 'number' || typeof available !== 'number') return undefined;
      return { used: current, limit: current + available };
    },
  });
}
