/**
 * Redis sources: a string key (JSON or text) and a hash. Revalidation reads one small version
 * (a version key, or a field of the hash) instead of the value. With `maxBytes`, the value's
 * size is checked on the server (a Lua script, on clients with `eval`) before it is sent. Values
 * are read as bytes where the client can (ioredis' `…Buffer` commands) and decoded here, so bytes
 * that are not UTF-8 fail the load rather than reading as U+FFFD.
 */
import { checkKnownKeys, clientOption, invalidOption, keysOf, oneOfOption, redisKeyPrefix, setOwn, stringOption } from '@steadyfn/handler/internal';
import { SourceError } from '../errors.js';
import type { ClientInput, Loaded, StateSource } from '../types.js';
import { booleanOption, bytesOption } from '../options.js';
import { abortReason, expectingType, jsonErrorAt, parseJson, resolveClient, sameVersion, scriptRefused, textOf, versioned } from '../util.js';

/**
 * The few ioredis calls these sources use; an ioredis `Redis` or `Cluster` fits. The `…Buffer`
 * methods are optional: with them values are read as bytes and checked to be UTF-8 (bytes that
 * are not fail the load, `expected: 'UTF-8 text'`); a reader without them is read as strings, as
 * its client decoded them (with U+FFFD in place of bytes that are not UTF-8, for ioredis' string commands).
 */
export interface RedisReader {
  /** `GET key`: the value, or `null` when the key does not exist. */
  get(key: string): Promise<string | null>;
  /** `HGET key field`: the field's value, or `null`. */
  hget(key: string, field: string): Promise<string | null>;
  /** `HGETALL key`: every field (`{}` when the hash does not exist). */
  hgetall(key: string): Promise<Record<string, string>>;
  /** `GET key` as bytes (ioredis `getBuffer`): used instead of `get` for the value when present. */
  getBuffer?(key: string): Promise<Uint8Array | null>;
  /**
   * `HGETALL key` with values as bytes (ioredis `hgetallBuffer`): used instead of `hgetall` when
   * present. Field names come decoded by the client (ioredis decodes them as UTF-8 with U+FFFD).
   */
  hgetallBuffer?(key: string): Promise<Record<string, Uint8Array>>;
  /**
   * `EVAL script numkeys key… arg…`, used only with `maxBytes`: the size is checked on the server
   * and a value over the limit is never sent. Without it the value is read, then counted.
   */
  eval?(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  /**
   * `eval` with bulk replies as bytes (ioredis has `evalBuffer` at runtime on a `Redis` and a
   * `Cluster`, though its typings leave it out): used instead of `eval` when present.
   */
  evalBuffer?(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

/** A reply as a string or as bytes, whichever the reader gave. */
type Reply = string | Uint8Array;

/** The size in bytes of a reply. */
const byteSize = (reply: Reply): number => (typeof reply === 'string' ? Buffer.byteLength(reply) : reply.byteLength);

/** `{size}` when the string is larger than ARGV[1] bytes, else `{size, value}` (value nil: no key). */
const GET_WITHIN = `
local size = redis.call('STRLEN', KEYS[1])
if size > tonumber(ARGV[1]) then return {size} end
return {size, redis.call('GET', KEYS[1])}
`;

/** `{size}` when the field names and values add up to more than ARGV[1] bytes, else `{size, {field, value, …}}`. */
const HGETALL_WITHIN = `
local flat = redis.call('HGETALL', KEYS[1])
local size = 0
for i = 1, #flat do size = size + #flat[i] end
if size > tonumber(ARGV[1]) then return {size} end
return {size, flat}
`;

const tooLarge = (size: number, maxBytes: number) => new SourceError(`value is larger than maxBytes (${size} > ${maxBytes})`);

/**
 * Runs a `maxBytes` script on `key`, or gives `undefined` when it cannot: a reader without
 * `eval`, or one the server refused the script to (an ACL without `@scripting`: `NOPERM`), which
 * `refused` then remembers for this source. The caller reads, then counts, instead.
 */
async function withinScript(client: RedisReader, script: string, key: string, maxBytes: number, refused: { scriptRefused: boolean }): Promise<unknown> {
  if (refused.scriptRefused || (typeof client.evalBuffer !== 'function' && typeof client.eval !== 'function')) return undefined;
  try {
    // Bytes when the client can give them, so the caller checks they are UTF-8.
    return await (typeof client.evalBuffer === 'function' ? client.evalBuffer(script, 1, key, maxBytes) : client.eval!(script, 1, key, maxBytes));
  } catch (error) {
    if (!scriptRefused(error)) throw error;
    refused.scriptRefused = true;
    return undefined;
  }
}

/** The part of a key Redis Cluster hashes to its slot: the first non-empty `{…}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/**
 * Whether two commands on these keys are answered in the order they were sent: always on one
 * connection (a `Redis`); on an ioredis `Cluster` only when the keys (with its
 * `keyPrefix`) share a hash tag, so they live in one slot.
 */
function sameNode(client: RedisReader, a: string, b: string): boolean {
  if ((client as { isCluster?: unknown }).isCluster !== true) return true;
  const prefix = redisKeyPrefix(client);
  return hashTag(prefix + a) === hashTag(prefix + b);
}

/** Options of `redisKey()`: the key, an optional version key, and how the value decodes. */
export interface RedisKeyOptions<T> {
  /** An ioredis `Redis` or `Cluster`, or a function returning one (e.g. `() => handle.get()`). */
  client: ClientInput<RedisReader>;
  /** The string key holding the value (non-empty). */
  key: string;
  /**
   * A key whose value changes whenever `key` does (e.g. `INCR app:config:version` after each
   * write). With it, a stale state costs one `GET` of this key when nothing changed. Writers
   * should write the value first and bump the version after; in Redis Cluster give both keys
   * the same hash tag (`{app}:config`, `{app}:config:v`) so they live on one node (otherwise
   * the value is asked only once the version has answered: a load costs a round trip more).
   * While this key does not exist there is no version: the value is read in full each time the
   * state is stale.
   */
  versionKey?: string;
  /** `json` (default), `text`, or a function from the stored text. */
  decode?: 'json' | 'text' | ((text: string) => T);
  /** A missing key gives `undefined` instead of a load failure. */
  optional?: boolean;
  /**
   * Values larger than this many bytes (`STRLEN`) fail to load (`SourceError`) instead of filling
   * memory. On a client with `eval` (an ioredis `Redis` or `Cluster`) the length is checked on the
   * server in the same step as the `GET`, and a value over the limit is never sent; on a reader
   * without `eval`, or a client the server refuses EVAL to (an ACL user without `@scripting`:
   * `NOPERM`, remembered by the source), the value is read, then counted. Without it, values of
   * any size are loaded.
   * @default no limit
   * @example redisKey({ client: redis, key: 'app:config', maxBytes: 1_048_576 }) // 1 MiB
   */
  maxBytes?: number;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const KEY_KEYS = keysOf<RedisKeyOptions<unknown>>({ client: true, key: true, versionKey: true, decode: true, optional: true, maxBytes: true });

/**
 * A Redis string key holding JSON (or text). With `versionKey`, a stale state costs one `GET`
 * of the version when nothing changed.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: a `client` without `get`, an
 *   empty `key`/`versionKey`, a `decode` other than `'json'`, `'text'` or a function, a `maxBytes`
 *   that is not a whole number ≥ 1, …
 */
export function redisKey<T = unknown>(options: RedisKeyOptions<T>): StateSource<T> {
  checkKnownKeys('redisKey', '', options, KEY_KEYS);
  clientOption('redisKey', 'client', options.client, ['get'], 'an ioredis Redis or Cluster');
  const key = stringOption('redisKey', 'key', options.key);
  const versionKey = options.versionKey === undefined ? undefined : stringOption('redisKey', 'versionKey', options.versionKey);
  const decode = options.decode ?? 'json';
  if (decode !== 'json' && decode !== 'text' && typeof decode !== 'function') invalidOption('redisKey', 'decode', '"json", "text", or a function (text) => value', decode);
  booleanOption('redisKey', 'optional', options.optional);
  bytesOption('redisKey', 'maxBytes', options.maxBytes);
  const maxBytes = options.maxBytes;
  const what = `redis key ${key}`;

  /** `GET key`, within `maxBytes` when given. */
  const refused = { scriptRefused: false };
  const getValue = (client: RedisReader): Promise<Reply | null> => expectingType(readValue(client), `the key ${key}`, 'a string');
  const getVersion = (client: RedisReader, name: string): Promise<string | null> => expectingType(client.get(name), `the version key ${name}`, 'a string');
  const readValue = async (client: RedisReader): Promise<Reply | null> => {
    // Bytes when the client can give them: decodeText checks they are UTF-8.
    const get = (): Promise<Reply | null> => (typeof client.getBuffer === 'function' ? client.getBuffer(key) : client.get(key));
    if (maxBytes === undefined) return get();
    const answer = await withinScript(client, GET_WITHIN, key, maxBytes, refused);
    if (answer === undefined) {
      const value = await get();
      if (value !== null && byteSize(value) > maxBytes) throw tooLarge(byteSize(value), maxBytes);
      return value;
    }
    const [size, value] = answer as [number, (Reply | null)?];
    if (size > maxBytes) throw tooLarge(size, maxBytes);
    return value ?? null;
  };

  const decodeText = (value: Reply | null): T => {
    if (value === null) {
      if (options.optional) return undefined as T;
      throw new SourceError('key does not exist');
    }
    const text = textOf(value, 'the value');
    if (decode === 'text') return text as T;
    if (decode === 'json') return parseJson(text, 'the value') as T;
    return decode(text);
  };

  const load = async (signal: AbortSignal): Promise<Loaded<T>> => {
    const client = await resolveClient(options.client, (c) => clientOption('redisKey', 'client', c, ['get'], 'an ioredis Redis or Cluster'), signal);
    if (signal.aborted) throw abortReason(signal);
    if (versionKey === undefined) return { value: decodeText(await getValue(client)) };
    // The version is read first, so the value is never older than the version recorded with it
    // (a write in between only causes one extra reload). On one connection both commands go out
    // together and are answered in order; on a Cluster, keys without a common hash tag may live
    // on two nodes, either of which may answer first: the value is asked once the version is in.
    if (!sameNode(client, key, versionKey)) {
      const version = await getVersion(client, versionKey);
      if (signal.aborted) throw abortReason(signal);
      return versioned(decodeText(await getValue(client)), version);
    }
    const [version, text] = await Promise.all([getVersion(client, versionKey), getValue(client)]);
    return versioned(decodeText(text), version);
  };

  const source: StateSource<T> = { description: what, load };
  if (versionKey !== undefined) {
    source.revalidate = async (known, signal) => {
      const client = await resolveClient(options.client, (c) => clientOption('redisKey', 'client', c, ['get'], 'an ioredis Redis or Cluster'), signal);
      if (signal.aborted) throw abortReason(signal);
      const version = await getVersion(client, versionKey);
      if (sameVersion(version, known.version)) return 'unchanged';
      return load(signal);
    };
  }
  return source;
}

/** Options of `redisHash()`: the hash key, an optional version field, and how fields decode. */
export interface RedisHashOptions {
  /** An ioredis `Redis` or `Cluster`, or a function returning one (e.g. `() => handle.get()`). */
  client: ClientInput<RedisReader>;
  /** The hash's key (non-empty). */
  key: string;
  /**
   * A field of the hash that changes on every write (`HINCRBY key version 1` in the same
   * MULTI as the write). With it, a stale state costs one `HGET` when nothing changed. While the
   * hash has no such field there is no version: the hash is read in full each time the state is
   * stale.
   */
  versionField?: string;
  /**
   * `text` (default): field values as strings; `json`: each field value parsed as JSON — except
   * `versionField`, always read as text (a UUID or an ISO timestamp is not JSON; a counter
   * written by `HINCRBY` is the string `"3"` in the value).
   */
  decode?: 'text' | 'json';
  /** A missing (empty) hash gives `{}` instead of a load failure. */
  optional?: boolean;
  /**
   * Hashes whose field names and values add up to more than this many bytes fail to load
   * (`SourceError`) instead of filling memory. On a client with `eval` (an ioredis `Redis` or
   * `Cluster`) the bytes are counted on the server in the same step as the `HGETALL`, and a hash
   * over the limit is never sent; on a reader without `eval`, or a client the server refuses
   * EVAL to (an ACL user without `@scripting`: `NOPERM`, remembered by the source), it is read,
   * then counted. Without it, hashes of any size are loaded.
   * @default no limit
   * @example redisHash({ client: redis, key: 'flags:checkout', versionField: 'version', maxBytes: 65_536 }) // 64 KiB
   */
  maxBytes?: number;
}

const HASH_KEYS = keysOf<RedisHashOptions>({ client: true, key: true, versionField: true, decode: true, optional: true, maxBytes: true });

/**
 * A Redis hash, as an object of its fields. With `versionField`, a stale state costs one `HGET`
 * when nothing changed.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: a `client` without
 *   `hgetall`/`hget`, an empty `key`/`versionField`, a `decode` other than `'text'` or `'json'`, a
 *   `maxBytes` that is not a whole number ≥ 1, …
 */
export function redisHash<T extends Record<string, unknown> = Record<string, string>>(options: RedisHashOptions): StateSource<T> {
  checkKnownKeys('redisHash', '', options, HASH_KEYS);
  clientOption('redisHash', 'client', options.client, ['hgetall', 'hget'], 'an ioredis Redis or Cluster');
  const key = stringOption('redisHash', 'key', options.key);
  const versionField = options.versionField === undefined ? undefined : stringOption('redisHash', 'versionField', options.versionField);
  const decode = oneOfOption('redisHash', 'decode', options.decode, ['text', 'json'], 'text');
  booleanOption('redisHash', 'optional', options.optional);
  bytesOption('redisHash', 'maxBytes', options.maxBytes);
  const maxBytes = options.maxBytes;
  const what = `redis hash ${key}`;

  /** `HGETALL key`, within `maxBytes` when given. */
  const refused = { scriptRefused: false };
  const getFields = (client: RedisReader): Promise<Record<string, Reply>> => expectingType(readFields(client), `the hash ${key}`, 'a hash');
  const readFields = async (client: RedisReader): Promise<Record<string, Reply>> => {
    // Values as bytes when the client can give them: load checks they are UTF-8.
    const getAll = (): Promise<Record<string, Reply>> => (typeof client.hgetallBuffer === 'function' ? client.hgetallBuffer(key) : client.hgetall(key));
    if (maxBytes === undefined) return getAll();
    const answer = await withinScript(client, HGETALL_WITHIN, key, maxBytes, refused);
    if (answer === undefined) {
      const fields = await getAll();
      let size = 0;
      for (const [name, value] of Object.entries(fields)) size += Buffer.byteLength(name) + byteSize(value);
      if (size > maxBytes) throw tooLarge(size, maxBytes);
      return fields;
    }
    const [size, flat = []] = answer as [number, Reply[]?];
    if (size > maxBytes) throw tooLarge(size, maxBytes);
    const fields: Record<string, Reply> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) setOwn(fields, textOf(flat[i]!, 'a field name'), flat[i + 1]!);
    return fields;
  };

  const load = async (signal: AbortSignal): Promise<Loaded<T>> => {
    const client = await resolveClient(options.client, (c) => clientOption('redisHash', 'client', c, ['hgetall', 'hget'], 'an ioredis Redis or Cluster'), signal);
    if (signal.aborted) throw abortReason(signal);
    // HGETALL (or the script around it) reads value and version field atomically.
    const fields = await getFields(client);
    const names = Object.keys(fields);
    if (names.length === 0 && !options.optional) throw new SourceError('hash does not exist');
    const value: Record<string, unknown> = {};
    let version: string | undefined;
    for (const name of names) {
      let decoded: unknown;
      try {
        // Where it goes wrong, never the text (and a byte order mark skipped), as for a key.
        const text = textOf(fields[name]!, `field ${name}`);
        // The version field is text under either decode (a UUID, an ISO timestamp is not JSON),
        // in the value as in the version `HGET` reads on revalidation.
        if (name === versionField) version = text;
        decoded = decode === 'json' && name !== versionField ? parseJson(text, `field ${name}`) : text;
      } catch (error) {
        throw jsonErrorAt(error, name);
      }
      setOwn(value, name, decoded);
    }
    return versionField === undefined ? { value: value as T } : versioned(value as T, version);
  };

  const source: StateSource<T> = { description: what, load };
  if (versionField !== undefined) {
    source.revalidate = async (known, signal) => {
      const client = await resolveClient(options.client, (c) => clientOption('redisHash', 'client', c, ['hgetall', 'hget'], 'an ioredis Redis or Cluster'), signal);
      if (signal.aborted) throw abortReason(signal);
      const version = await expectingType(client.hget(key, versionField), `the hash ${key}`, 'a hash');
      if (sameVersion(version, known.version)) return 'unchanged';
      return load(signal);
    };
  }
  return source;
}
