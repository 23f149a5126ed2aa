/**
 * What the MongoDB-wire store's claim rounds (`mongodb-claim.ts`) and change rounds
 * (`mongodb-change.ts`) share with the store (`mongodb.ts`): the collection once probed, the
 * reader, the server's clock, the grants a settle without a read uses, the write, and how a
 * key's top generation is judged at the server's time.
 */
import type { LeaseRecord } from '../types.js';
import type { ServerClock } from './mongodb-clock.js';
import type { LeaseDocument, MongoLeaseCollection } from './mongodb-docs.js';
import type { ProbeResult } from './mongodb-probe.js';
import type { TopReader } from './mongodb-read.js';
import type { grantMemory } from './mongodb-timing.js';
import type { MongoCallOptions } from './mongodb-types.js';

/** One generation a call tries to write, for request `index`, and what it read of the key. */
export interface Attempt {
  index: number;
  doc: LeaseDocument;
  seen: LeaseDocument[];
}

/** A request that changes a generation its caller holds (a settle, a renewal). */
export interface Change {
  key: string;
  owner: string;
  fence: number;
}

/** The generation a change builds on: its number, purge base and data. */
export interface Below {
  g: number;
  p: number;
  d?: string;
}

/** A generation a change wrote, and when it was sent (`performance.now()` and `Date.now()`). */
export interface Written {
  doc: LeaseDocument;
  sentAt: number;
  sentAtLocal: number;
}

/** The store's state and rules, as the rounds use them (built once per store by `mongoLeaseStoreOf`). */
export interface StoreContext {
  retainMs: number;
  clock: ServerClock;
  reader: TopReader;
  grants: ReturnType<typeof grantMemory>;
  /** The collection, probed, with a fresh clock offset. */
  ready(signal: AbortSignal | undefined): Promise<{ col: MongoLeaseCollection; probed: ProbeResult }>;
  /** How a walk may settle a key (see mongodb-read.ts), or false to read by query. */
  walkRule(probed: ProbeResult, serverNow: number, settles: (top: LeaseDocument) => boolean): false | { settles(top: LeaseDocument): boolean; isLiveDone(doc: LeaseDocument): boolean };
  /** Inserts the attempts' documents; the results say which landed. Sweeps what the winners superseded. */
  write(col: MongoLeaseCollection, probed: ProbeResult, attempts: Attempt[], serverNow: number, options: MongoCallOptions | undefined): Promise<boolean[]>;
  /** The record `top` shows at `serverNow` (erring towards live), or undefined. */
  live(top: LeaseDocument | undefined, serverNow: number): LeaseRecord | undefined;
  /** Written recently enough that nothing above it can have been deleted (see mongodb-read.ts). */
  young(doc: LeaseDocument, serverNow: number): boolean;
  /** The top generation can be built on: it is not within ACT_MARGIN_MS of being purged. */
  actionable(top: LeaseDocument | undefined, serverNow: number): boolean;
  /** The whole record is past its retention. */
  purgeable(top: LeaseDocument, serverNow: number): boolean;
}
