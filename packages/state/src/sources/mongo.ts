/**
 * MongoDB sources: one document, or the result of a query. Revalidation reads one small
 * version (a field of the document, or a separate version document) instead of the data.
 */
import { checkKnownKeys, intOption, invalidOption, keysOf, stringOption } from '@steadyfn/handler/internal';
import { SourceError } from '../errors.js';
import type { ClientInput, Loaded, StateSource } from '../types.js';
import { booleanOption, functionOption, mongoClientOption, optionalString, recordOption } from '../options.js';
import { abortReason, getPath, resolveClient, sameVersion, versioned } from '../util.js';

type Doc = Record<string, any>;

/** The few driver calls these sources use; a `mongodb` `Collection` fits. */
export interface MongoCollectionLike {
  /** `Collection.find(filter, { sort, projection, limit, signal })`. */
  find(filter: any, options?: any): { toArray(): Promise<any[]> };
  /** `Collection.findOne(filter, { projection, sort, signal })`: the document, or `null`. */
  findOne(filter: any, options?: any): Promise<any>;
}

/** A `mongodb` `MongoClient` fits. */
export interface MongoClientLike {
  /** The database `name` (default: the one in the connection string), for its collections. */
  db(name?: string): { collection(name: string): MongoCollectionLike };
}

/** Which collection a MongoDB source reads: a client (or a getter), a database and a collection name. */
export interface MongoTarget {
  /** A MongoClient, or a function returning one (a connections handle). */
  client: ClientInput<MongoClientLike>;
  /** Database name; defaults to the one in the connection string. */
  db?: string;
  /** The collection's name (non-empty). */
  collection: string;
}

/** A version kept in its own document, bumped by every writer after it writes. */
export interface MongoVersionDocument {
  /** Defaults to the source's collection. */
  collection?: string;
  /** Selects the one version document, e.g. `{ _id: 'plans' }` (not empty: `{}` is refused). */
  filter: Doc;
  /** Field holding the version (number, string, Date or ObjectId); dotted paths allowed. */
  field: string;
}

/**
 * Checks what every MongoDB factory takes: `client`, `db`, `collection` (returned).
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the field.
 */
export function checkTarget(owner: string, target: MongoTarget): string {
  mongoClientOption(owner, target.client);
  optionalString(owner, 'db', target.db);
  return stringOption(owner, 'collection', target.collection);
}

async function collectionOf(owner: string, target: MongoTarget, name = target.collection): Promise<MongoCollectionLike> {
  const client = await resolveClient(target.client, (c) => mongoClientOption(owner, c));
  return client.db(target.db).collection(name);
}

const VERSION_DOCUMENT_KEYS = keysOf<MongoVersionDocument>({ collection: true, filter: true, field: true });

/**
 * Checks a `versionDocument` option of `owner` (`mongoQuery`, `mongoSnapshot`); returns it.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming `versionDocument.<key>`: an unknown key, no
 *   `filter` or an empty one (`{}`), an empty `field` or `collection`.
 */
export function checkVersionDocument(owner: string, version: MongoVersionDocument | undefined): MongoVersionDocument | undefined {
  checkKnownKeys(owner, 'versionDocument', version, VERSION_DOCUMENT_KEYS);
  if (version === undefined) return undefined;
  recordOption(owner, 'versionDocument', version, 'an object { collection?, filter, field }');
  optionalString(owner, 'versionDocument.collection', version.collection);
  recordOption(owner, 'versionDocument.filter', version.filter, 'a MongoDB filter object naming the version document', true);
  // `{}` matches every document: the version would be whichever document comes first, and in a
  // mongoSnapshot's own collection (left out of its query by `$nor`) no snapshot would ever be read.
  if (Object.keys(version.filter).length === 0) {
    invalidOption(owner, 'versionDocument.filter', "a filter that selects the one version document, e.g. { _id: 'version' } (an empty one matches every document)", version.filter);
  }
  stringOption(owner, 'versionDocument.field', version.field);
  return version;
}

/** The version in `version`'s document (`null`: no document, or no such field). Internal. */
export async function readVersion(owner: string, target: MongoTarget, version: MongoVersionDocument, signal: AbortSignal): Promise<unknown> {
  const collection = await collectionOf(owner, target, version.collection ?? target.collection);
  if (signal.aborted) throw abortReason(signal);
  const doc = await collection.findOne(version.filter, { projection: { _id: 0, [version.field]: 1 }, signal });
  // No version document (or field) yet: null, which the sources keep as no version at all.
  return doc === null ? null : (getPath(doc, version.field) ?? null);
}

const isInclusion = (v: unknown): boolean => v === 1 || v === true;

/** Whether an inclusion projection already brings `path` (names it, or one of its parents). */
function includesPath(projection: Doc, path: string): boolean {
  return Object.entries(projection).some(([field, v]) => isInclusion(v) && (field === path || path.startsWith(`${field}.`)));
}

/** Options of `mongoDocument()`: the filter of the one document, an optional version field and `map`. */
export interface MongoDocumentOptions<T> extends MongoTarget {
  /** Selects the one document, e.g. `{ _id: 'checkout' }` (required: without it the first document would do). */
  filter: Doc;
  /** A MongoDB projection of the document (the version field is added to an inclusion projection). */
  projection?: Doc;
  /**
   * A field of the document that changes on every write (`$inc: { version: 1 }` or
   * `$currentDate`). With it, a stale state costs one `findOne` of that field alone. An
   * inclusion `projection` that does not already bring it (or a parent of it) gets it added.
   * While the document (or its field) is not there there is no version: the document is read in
   * full each time the state is stale.
   */
  versionField?: string;
  /** A missing document gives `null` instead of a load failure. */
  optional?: boolean;
  /** Turns the stored document into the source's value (e.g. drop `_id`). */
  map?: (doc: Doc) => T;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const DOCUMENT_KEYS = keysOf<MongoDocumentOptions<unknown>>({ client: true, db: true, collection: true, filter: true, projection: true, versionField: true, optional: true, map: true });

/**
 * One MongoDB document: the value is the document (or `map(document)`); with `versionField`, a
 * stale state costs one `findOne` of that field when nothing changed.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: no `filter`, a `client` that is
 *   not a MongoClient (or a function returning one), an empty `db`/`collection`/`versionField`, …
 */
export function mongoDocument<T = Doc>(options: MongoDocumentOptions<T>): StateSource<T> {
  checkKnownKeys('mongoDocument', '', options, DOCUMENT_KEYS);
  const collectionName = checkTarget('mongoDocument', options);
  // Without a filter, findOne would read whichever document comes first.
  recordOption('mongoDocument', 'filter', options.filter, 'a MongoDB filter object naming the one document (e.g. { _id: "pro" })', true);
  recordOption('mongoDocument', 'projection', options.projection, 'a MongoDB projection object');
  booleanOption('mongoDocument', 'optional', options.optional);
  functionOption('mongoDocument', 'map', options.map, 'a function (document) => value');
  const versionField = options.versionField === undefined ? undefined : stringOption('mongoDocument', 'versionField', options.versionField);
  const what = `mongodb ${collectionName} document`;
  let projection = options.projection;
  // An exclusion projection that drops the version field (or a parent of it) would keep null as
  // the version while revalidation reads the real one: every stale state a full reload.
  for (const [field, v] of Object.entries(projection ?? {})) {
    if (versionField !== undefined && (v === 0 || v === false) && (field === versionField || versionField.startsWith(`${field}.`))) {
      invalidOption('mongoDocument', `projection.${field}`, `left out: it drops the versionField "${versionField}", which revalidation compares`, v);
    }
  }
  // An inclusion projection must still bring the version field — unless it already does (the
  // field or a parent of it): MongoDB 4.4+ refuses `{ meta: 1, 'meta.v': 1 }` as a path collision.
  if (projection && versionField && Object.values(projection).some(isInclusion) && !includesPath(projection, versionField)) {
    projection = { ...projection, [versionField]: 1 };
  }

  const load = async (signal: AbortSignal): Promise<Loaded<T>> => {
    const collection = await collectionOf('mongoDocument', options);
    if (signal.aborted) throw abortReason(signal);
    const doc: Doc | null = await collection.findOne(options.filter, projection ? { projection, signal } : { signal });
    if (doc === null) {
      if (!options.optional) throw new SourceError('no document matches the filter');
      return { value: null as T };
    }
    const value = options.map ? options.map(doc) : (doc as T);
    return versionField === undefined ? { value } : versioned(value, getPath(doc, versionField));
  };

  const source: StateSource<T> = { description: what, load };
  if (versionField !== undefined) {
    source.revalidate = async (known, signal) => {
      const version = await readVersion('mongoDocument', options, { filter: options.filter, field: versionField }, signal);
      if (sameVersion(version, known.version)) return 'unchanged';
      return load(signal);
    };
  }
  return source;
}

/** Options of `mongoQuery()`: filter, sort, projection, `limit` and an optional version document. */
export interface MongoQueryOptions<T> extends MongoTarget {
  /**
   * The documents to read.
   * @default {} (every document of the collection)
   */
  filter?: Doc;
  /** Their order: field → `1` (ascending) or `-1` (descending). Default: the store's natural order. */
  sort?: Record<string, 1 | -1>;
  /** A MongoDB projection of each document. */
  projection?: Doc;
  /** Upper bound on documents read (default 10 000): the state lives in memory. More is a load failure. */
  limit?: number;
  /**
   * A document whose field every writer bumps after changing the queried documents. With it,
   * a stale state costs one `findOne` of that field. (A query has no single version of its
   * own: counting and maximising fields cannot see every delete-and-insert.) While that document
   * (or its field) is not there there is no version: the query runs in full each time the state
   * is stale.
   */
  versionDocument?: MongoVersionDocument;
  /** Turns each stored document into an element of the value. */
  map?: (doc: Doc) => T;
}

const QUERY_KEYS = keysOf<MongoQueryOptions<unknown>>({ client: true, db: true, collection: true, filter: true, sort: true, projection: true, limit: true, versionDocument: true, map: true });

/**
 * The documents a MongoDB query returns, as an array (at most `limit`; more fails the load).
 * With `versionDocument`, a stale state costs one `findOne` of the version when nothing changed.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: a `limit` that is not an
 *   integer ≥ 1, a `sort` direction other than 1/-1, a `versionDocument` without `filter`/`field` or with an empty `filter`, …
 */
export function mongoQuery<T = Doc>(options: MongoQueryOptions<T>): StateSource<T[]> {
  checkKnownKeys('mongoQuery', '', options, QUERY_KEYS);
  const collectionName = checkTarget('mongoQuery', options);
  const limit = intOption('mongoQuery', 'limit', options.limit, 10_000, 1);
  recordOption('mongoQuery', 'filter', options.filter, 'a MongoDB filter object');
  recordOption('mongoQuery', 'projection', options.projection, 'a MongoDB projection object');
  recordOption('mongoQuery', 'sort', options.sort, 'an object of field: 1 | -1');
  for (const [field, direction] of Object.entries(options.sort ?? {})) {
    if (direction !== 1 && direction !== -1) invalidOption('mongoQuery', `sort.${field}`, '1 (ascending) or -1 (descending)', direction);
  }
  functionOption('mongoQuery', 'map', options.map, 'a function (document) => element');
  const version = checkVersionDocument('mongoQuery', options.versionDocument);
  const what = `mongodb ${collectionName} query`;

  // The version is read before the data, so the data is never older than its version: a
  // write in between costs one extra reload later, never a missed change.
  const loadAt = async (known: unknown, signal: AbortSignal): Promise<Loaded<T[]>> => {
    const collection = await collectionOf('mongoQuery', options);
    if (signal.aborted) throw abortReason(signal);
    const findOptions: Doc = { limit: limit + 1, signal };
    if (options.sort) findOptions.sort = options.sort;
    if (options.projection) findOptions.projection = options.projection;
    const docs: Doc[] = await collection.find(options.filter ?? {}, findOptions).toArray();
    if (docs.length > limit) throw new SourceError(`the query matches more than ${limit} documents (raise limit)`);
    const value = options.map ? docs.map((doc) => options.map!(doc)) : (docs as T[]);
    return version ? versioned(value, known) : { value };
  };
  const load = async (signal: AbortSignal): Promise<Loaded<T[]>> =>
    loadAt(version ? await readVersion('mongoQuery', options, version, signal) : undefined, signal);

  const source: StateSource<T[]> = { description: what, load };
  if (version) {
    source.revalidate = async (known, signal) => {
      const current = await readVersion('mongoQuery', options, version, signal);
      if (sameVersion(current, known.version)) return 'unchanged';
      return loadAt(current, signal);
    };
  }
  return source;
}
