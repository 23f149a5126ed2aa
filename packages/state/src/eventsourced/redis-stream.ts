/**
 * Events in a Redis stream, read with XRANGE after the snapshot's entry id, page by page. On a
 * client with `eval` each page is one Lua script that also reads the stream's `XINFO STREAM`
 * counters, so a stream trimmed (or XDEL'd) past the position read after fails the load instead
 * of silently skipping the events that are gone. Entries are read as bytes where the client can
 * (ioredis' `…Buffer` commands) and decoded here, so bytes that are not UTF-8 fail the load
 * rather than reading as U+FFFD.
 */
import { checkKnownKeys, clientOption, keysOf, setOwn, stringOption } from '@steadyfn/handler/internal';
import type { ClientInput } from '../types.js';
import { SourceError } from '../errors.js';
import { functionOption } from '../options.js';
import { abortReason, expectingType, resolveClient, scriptRefused, textOf } from '../util.js';
import { markGone, isAfter } from './positions.js';
import type { EventStore } from './types.js';

type StreamEntry = [id: string, fields: string[]];
/** An entry as the reader gave it: strings, or bytes from the `…Buffer` commands. */
type RawEntry = [id: string | Uint8Array, fields: Array<string | Uint8Array>];

/**
 * The ioredis calls used; an ioredis `Redis` or `Cluster` fits. The `…Buffer` methods are
 * optional: with them entries are read as bytes and checked to be UTF-8 (bytes that are not fail
 * the load, `expected: 'UTF-8 text'`); a reader without them is read as strings, as its client
 * decoded them (with U+FFFD in place of bytes that are not UTF-8, for ioredis' string commands).
 */
export interface RedisStreamReader {
  /** `XRANGE key start end COUNT count`: entries as `[id, [field, value, …]]`. Used when there is no `eval`. */
  xrange(key: string, start: string, end: string, countToken: 'COUNT', count: number): Promise<StreamEntry[]>;
  /** `xrange` with the reply as bytes (ioredis `xrangeBuffer`): used instead of `xrange` when present. */
  xrangeBuffer?(key: string, start: string, end: string, countToken: 'COUNT', count: number): Promise<Array<[id: Uint8Array, fields: Uint8Array[]]>>;
  /**
   * `EVAL script numkeys key… arg…`. When present (ioredis has it), each page is read by one
   * script on the stream's key (one slot: fine on a Cluster) that checks no event after the
   * position was deleted; without it, pages are read with `xrange` and nothing is checked.
   */
  eval?(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  /**
   * `eval` with bulk replies as bytes (ioredis has `evalBuffer` at runtime on a `Redis` and a
   * `Cluster`, though its typings leave it out): used instead of `eval` when present.
   */
  evalBuffer?(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

/** Options of `redisStreamEvents()`. */
export interface RedisStreamEventsOptions<E> {
  /**
   * An ioredis client (anything with `xrange`; with `eval` too, trimmed streams are detected),
   * or a function returning one.
   */
  client: ClientInput<RedisStreamReader>;
  /** The stream's key. */
  key: string;
  /** Turns an entry's fields into an event. Default: the fields as an object of strings. */
  decode?: (fields: Record<string, string>, id: string) => E;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const STREAM_KEYS = keysOf<RedisStreamEventsOptions<unknown>>({ client: true, key: true, decode: true });

/**
 * One page and, read atomically with it, the counters that tell whether entries were removed
 * (Redis ≥ 7.0; older servers have none of them and are not checked). Only those counters and
 * the page are returned — not XINFO's first and last entries. A missing key: no counters, no entries.
 */
const READ_PAGE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {{}, {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local facts = {}
for i = 1, #info, 2 do
  local name = info[i]
  if name == 'length' or name == 'entries-added' or name == 'max-deleted-entry-id' or name == 'recorded-first-entry-id' or name == 'last-generated-id' then
    local value = info[i + 1]
    if type(value) == 'number' then value = string.format('%d', value) end
    facts[#facts + 1] = name
    facts[#facts + 1] = value
  end
end
return {facts, redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])}
`;

/**
 * Why events after `after` are gone, or undefined when every one is still in the stream (or the
 * server does not say: before Redis 7.0). Trims remove the oldest entries and move the first
 * entry (`recorded-first-entry-id`); XDEL raises `max-deleted-entry-id`; `entries-added` minus
 * `length` counts both. A stream whose first entry is past the position, after removals, no
 * longer shows whether the removed entries all came before it, so that is refused too.
 */
function lostEvents(facts: ReadonlyArray<string>, after: string | undefined): string | undefined {
  const info = new Map<string, string>();
  for (let i = 0; i + 1 < facts.length; i += 2) info.set(facts[i]!, facts[i + 1]!);
  // A stream whose last id is before the position — written anew after it was lost (ids
  // restart), or another stream than the snapshot's — would hand no event after it until its ids
  // pass it: every event in between skipped. Written anew, it has removed nothing, so this comes
  // before the removal counters.
  const lastId = info.get('last-generated-id');
  if (after !== undefined && isAfter(after, lastId ?? '')) {
    return `its last entry is ${lastId}, before that position: the stream was written anew, or the snapshot is of another stream`;
  }
  const added = info.get('entries-added');
  const length = info.get('length');
  if (added === undefined || length === undefined || !info.has('max-deleted-entry-id')) return undefined;
  if (!/^\d+$/.test(added) || !/^\d+$/.test(length) || BigInt(added) <= BigInt(length)) return undefined; // nothing was ever removed
  const from = after ?? '0-0';
  const maxDeleted = info.get('max-deleted-entry-id');
  if (isAfter(maxDeleted, from)) return `entry ${maxDeleted} was deleted`;
  if (BigInt(length) === 0n) {
    const last = info.get('last-generated-id');
    return isAfter(last, from) ? `the stream is empty; entries up to ${last} were removed` : undefined;
  }
  const first = info.get('recorded-first-entry-id');
  return isAfter(first, from) ? `it was trimmed: its first entry is now ${first}` : undefined;
}

/**
 * Events from a Redis stream; positions are entry ids (`1700000000000-0`). With a client that has
 * `eval` (an ioredis `Redis` or `Cluster`) on Redis ≥ 7.0, a stream that no longer holds every
 * event after the position read after — the snapshot's, the last one applied, or the start when
 * there is no snapshot — fails the load with a `SourceError` (the state is `STATE_UNAVAILABLE`):
 * events trimmed away (`XTRIM`, `XADD … MAXLEN|MINID`) or deleted (`XDEL`) cannot be replayed.
 * A client the server refuses EVAL to (an ACL user without `@scripting`: `NOPERM`) reads with
 * XRANGE alone from then on, unchecked, as a client without `eval` does.
 * @throws ConfigurationError (`CONFIG_INVALID`) for a `client` without `xrange`, an empty `key`, or a `decode` that is not a function.
 */
export function redisStreamEvents<E = Record<string, string>>(options: RedisStreamEventsOptions<E>): EventStore<E, string> {
  checkKnownKeys('redisStreamEvents', '', options, STREAM_KEYS);
  clientOption('redisStreamEvents', 'client', options.client, ['xrange'], 'an ioredis Redis or Cluster');
  stringOption('redisStreamEvents', 'key', options.key);
  functionOption('redisStreamEvents', 'decode', options.decode, 'a function (fields, id) => event');
  const key = options.key;
  // Set once the server refused the script to this client (an ACL without @scripting, a managed
  // Redis without EVAL): pages are then read with XRANGE alone, unchecked, as before the check.
  let unscripted = false;
  return {
    description: `redis stream ${key}`,
    async readAfter(after, limit, signal) {
      const client = await resolveClient(options.client, (c) => clientOption('redisStreamEvents', 'client', c, ['xrange'], 'an ioredis Redis or Cluster'), signal);
      if (signal.aborted) throw abortReason(signal);
      // `(id` is exclusive (Redis 6.2+): the entry at the snapshot's position is not read again.
      const start = after === undefined ? '-' : `(${after}`;
      let entries: RawEntry[];
      // Bytes when the client can give them: each entry is checked to be UTF-8 below.
      const evaluate =
        typeof client.evalBuffer === 'function'
          ? client.evalBuffer.bind(client)
          : typeof client.eval === 'function'
            ? client.eval.bind(client)
            : undefined;
      const scripted = unscripted || evaluate === undefined ? undefined : evaluate(READ_PAGE, 1, key, start, limit).catch((error: unknown) => {
        if (!scriptRefused(error)) throw error;
        unscripted = true;
        return undefined;
      });
      const read = scripted && (await expectingType(scripted, `the stream ${key}`, 'a stream'));
      if (read !== undefined) {
        const [facts, page] = read as [Array<string | Uint8Array>, RawEntry[]];
        // No key (no counters): not even the entry at the position is there. hydrate judges that.
        if (facts.length === 0 && after !== undefined) return markGone<{ position: string; event: E }>([]);
        const lost = lostEvents(facts.map((fact) => textOf(fact, 'XINFO STREAM')), after);
        if (lost !== undefined) {
          const where = after === undefined ? 'the start of the stream (no snapshot)' : `position ${after}`;
          throw new SourceError(`events after ${where} are no longer in the stream (${lost}): the state cannot be rebuilt from it — write a newer snapshot, at an entry the stream still holds`);
        }
        entries = page;
      } else {
        const page = typeof client.xrangeBuffer === 'function' ? client.xrangeBuffer(key, start, '+', 'COUNT', limit) : client.xrange(key, start, '+', 'COUNT', limit);
        entries = await expectingType<RawEntry[]>(page, `the stream ${key}`, 'a stream');
      }
      return entries.map(([rawId, flat]) => {
        const id = textOf(rawId, 'an entry id');
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const name = textOf(flat[i]!, `entry ${id}: a field name`);
          setOwn(fields, name, textOf(flat[i + 1]!, `entry ${id}: field ${name}`));
        }
        return { position: id, event: options.decode ? options.decode(fields, id) : (fields as E) };
      });
    },
  };
}
