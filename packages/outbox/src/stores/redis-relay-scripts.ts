/**
 * The Lua of the Redis relay store (key layout in `redis-keys.ts`). `BEGIN` and `settleScript`
 * take many aggregates in one call — every aggregate of a round on a single server, those of
 * one partition on a cluster — so the store work of a round costs a round trip per group, not
 * per aggregate. Times come from the server's `TIME`, never the function's clock.
 */
import { luaScript, type LuaScript } from '@steadyfn/lease';

/**
 * The own keys of a relay script, by their place in its KEYS: `[role, type]` repeated over
 * KEYS (the pattern of one aggregate, or of the whole call), `type` as Redis's `TYPE` names it
 * (`''`: any type, e.g. a marker only tested with `EXISTS`).
 */
export type OwnKeyPattern = ReadonlyArray<readonly [role: string, type: string]>;

/** A relay script with the pattern of its own keys and what a refusal of it leaves undone. */
export interface RelayScript {
  readonly script: LuaScript;
  readonly own: OwnKeyPattern;
  /** Said by the refusal: what the script did not do, e.g. `nothing was relayed`. */
  readonly nothing: string;
}

/** The error reply of an own key of another type: `OUTBOX_OWNKEY <KEYS index> <its type>`. */
export const OWNKEY_REPLY = /OUTBOX_OWNKEY (\d+) (\S+)/;

/**
 * Lua that checks, before anything else, the type of every key of the script against the
 * pattern (repeated over KEYS; each distinct key once): a key of another type (an application
 * key under the outbox's prefix) answers the error `OUTBOX_OWNKEY <index> <type>` before any
 * write — Redis does not take back a script's earlier writes when a later command fails with
 * WRONGTYPE — which the store turns into `OUTBOX_PRECONDITION_FAILED` naming the key's role.
 */
function ownKeysCheck(own: OwnKeyPattern): string {
  return `do
  local want = {${own.map(([, type]) => `'${type}'`).join(', ')}}
  local seen = {}
  for i = 1, #KEYS do
    local w = want[(i - 1) % #want + 1]
    if w ~= '' and not seen[KEYS[i]] then
      seen[KEYS[i]] = true
      local t = redis.call('TYPE', KEYS[i])['ok']
      if t ~= w and t ~= 'none' then return redis.error_reply('OUTBOX_OWNKEY ' .. i .. ' ' .. t) end
    end
  end
end
`;
}

/** A relay script: `prelude` (function definitions), the own keys' check, then `body`. */
function relayScript(own: OwnKeyPattern, nothing: string, body: string, prelude = ''): RelayScript {
  return { script: luaScript(`${prelude}${prelude ? '\n' : ''}${ownKeysCheck(own)}${body}`), own, nothing };
}

/**
 * KEYS per aggregate (4 each): its set, the stream, the attempts hash, the quarantine hash.
 * ARGV: 1 the body bytes this call may read across all its aggregates (the round's budget,
 * spent round-robin as `relay/budget.ts` does: every aggregate's first event, then every
 * second, …, no pass after one where an aggregate's next event did not fit), 2 `1` when the
 * call may read its first event beyond that (the round has read nothing yet), then per
 * aggregate its name and the most events to read of it.
 *
 * Reply: `{ meta, body × events read }`. `meta` is a JSON array (`cjson`), per aggregate `-1`
 * quarantined, else `n, more, (streamId, seq, eventId, type, started, finished, traceparent,
 * unjudged) × n` — `n` is 0 with `more` when its head did not fit in what was left (or its
 * count is 0); then, last, the body bytes read. The bodies follow `meta` as bulk strings, in
 * the same order, unchanged. One string for every small field of the call, instead of nine
 * reply elements per event, is what the client saves: decoding a reply element costs ioredis
 * far more than its share of one `JSON.parse`. The numbers are below 2^53 and cjson's 14
 * digits (seq, attempt counters); a field the entry lacks is `''`. Counts a started attempt
 * on each event read and drops ids whose stream entry is gone. The finished and unjudged
 * counters (one `HMGET`) are read only when the event was begun before: they grow only in
 * `settleScript`, for an event a `BEGIN` of the same round read (so after its `started`), and
 * every script that clears them clears `started` with them — an event's first start finds
 * them at 0, and the first attempt of every event (most of them) costs one command fewer.
 */
export const BEGIN = relayScript([['aggregate set', 'zset'], ['events stream', 'stream'], ['attempts hash', 'hash'], ['quarantine hash', 'hash']], 'nothing was relayed', `local budget, force = tonumber(ARGV[1]), ARGV[2] == '1'
local spent, read = 0, 0
local count = #KEYS / 4
local ids, at, taken, open = {}, {}, {}, {}
for i = 0, count - 1 do
  local limit = tonumber(ARGV[2 * i + 4])
  if redis.call('HEXISTS', KEYS[4 * i + 4], ARGV[2 * i + 3]) == 1 then
    ids[i] = false
  else
    ids[i] = limit > 0 and redis.call('ZRANGE', KEYS[4 * i + 1], 0, limit - 1) or {}
    at[i] = 1
    taken[i] = {}
    open[#open + 1] = i
  end
end
while #open > 0 do
  local still, short = {}, false
  for _, i in ipairs(open) do
    local set, stream, attempts = KEYS[4 * i + 1], KEYS[4 * i + 2], KEYS[4 * i + 3]
    local list, f, id = ids[i], nil, nil
    while at[i] <= #list and not f do
      id = list[at[i]]
      local entry = redis.call('XRANGE', stream, id, id)
      if #entry == 1 then f = entry[1][2] else redis.call('ZREM', set, id); at[i] = at[i] + 1 end
    end
    if f and ((force and read == 0) or spent + #f[8] <= budget) then
      at[i] = at[i] + 1
      spent = spent + #f[8]
      read = read + 1
      local started = redis.call('HINCRBY', attempts, id .. ':s', 1)
      local finished, unjudged = 0, 0
      if started > 1 then
        local counts = redis.call('HMGET', attempts, id .. ':f', id .. ':u')
        finished, unjudged = tonumber(counts[1]) or 0, tonumber(counts[2]) or 0
      end
      local t = taken[i]
      t[#t + 1] = { id, tonumber(f[4]) or f[4] or '', f[6] or '', f[10] or '', started, finished, f[12] or '', unjudged, f[8] }
      still[#still + 1] = i
    elseif f then
      short = true
    end
  end
  if short then open = {} else open = still end
end
local meta = {}
local out = {''}
for i = 0, count - 1 do
  if ids[i] == false then
    meta[#meta + 1] = -1
  else
    local t = taken[i]
    meta[#meta + 1] = #t
    meta[#meta + 1] = redis.call('ZCARD', KEYS[4 * i + 1]) > #t and 1 or 0
    for _, e in ipairs(t) do
      for k = 1, 8 do meta[#meta + 1] = e[k] end
      out[#out + 1] = e[9]
    end
  end
end
meta[#meta + 1] = spent
out[1] = cjson.encode(meta)
return out`);

/** Fields per event in a `BEGIN` reply's `meta` (its body is a reply element of its own). */
export const BEGIN_FIELDS = 8;

/**
 * The sizes a round spends its budget over before it reads any body (Redis Cluster, where
 * each partition is a script of its own: sizes from every partition at once, then `BEGIN`
 * with each aggregate's count, also at once). Read-only. KEYS per aggregate (3 each): its
 * set, the stream, the quarantine hash. ARGV: 1 most events per aggregate, then the
 * aggregates' names. Reply per aggregate: `-1` quarantined, else `n, size × n` — the body
 * bytes of its first pending events in seq order (ids whose entry is gone are skipped, as
 * `BEGIN` skips them).
 */
export const HEAD_SIZES = relayScript([['aggregate set', 'zset'], ['events stream', 'stream'], ['quarantine hash', 'hash']], 'nothing was relayed', `local limit = tonumber(ARGV[1])
local out = {}
for i = 0, #KEYS / 3 - 1 do
  local set, stream, quarantine = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  if redis.call('HEXISTS', quarantine, ARGV[i + 2]) == 1 then
    out[#out + 1] = -1
  else
    local at = #out + 1
    local n = 0
    out[at] = 0
    for _, id in ipairs(redis.call('ZRANGE', set, 0, limit - 1)) do
      local entry = redis.call('XRANGE', stream, id, id)
      if #entry == 1 then
        n = n + 1
        out[#out + 1] = #entry[1][2][8]
      end
    end
    out[at] = n
  end
end
return out`);

/**
 * Marks many aggregates. KEYS per aggregate (5, or 6 with the lease): its set, the stream,
 * attempts, pending, sent, the lease. ARGV: 1 `delete` | `sent`, then per aggregate: name,
 * count accepted, count refused, count unjudged, [the lease settle's 5 arguments], (streamId,
 * seq) per accepted, streamId per refused, streamId per unjudged (those of the refused SQS never
 * judged: their finished attempt is also counted as unjudged). With the lease fragment each aggregate's lease is released
 * first, and its events are marked only when that succeeded (else `-1`: another relay holds
 * it now). Reply: events marked, per aggregate.
 *
 * Each accepted (id, seq) is checked (still pending at that seq) with one `ZMSCORE` per
 * aggregate; those that pass are removed with one `ZREM`, one `XDEL` (or `ZADD` to the sent
 * set) and one `HDEL` of their counters per aggregate — four commands per aggregate instead of
 * four per event, in chunks of at most `CHUNK` arguments (Lua's stack bounds `unpack`).
 */
export function settleScript(leaseFragment: { source: string; name: string } | undefined): RelayScript {
  const perAggregate = leaseFragment ? 6 : 5;
  const own: Array<readonly [string, string]> = [['aggregate set', 'zset'], ['events stream', 'stream'], ['attempts hash', 'hash'], ['pending set', 'zset'], ['sent set', 'zset']];
  if (leaseFragment) own.push(['relay lease', 'string']);
  return relayScript(own, 'nothing was marked (the events SQS accepted stay pending: sent again)', `local now = redis.call('TIME')
local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local CHUNK = 1000
local function each(command, key, items)
  for from = 1, #items, CHUNK do
    redis.call(command, key, unpack(items, from, math.min(from + CHUNK - 1, #items)))
  end
end
local out = {}
local a = 2
for i = 0, #KEYS / ${perAggregate} - 1 do
  local k = ${perAggregate} * i
  local set, stream, attempts, pending, sent = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  local agg, nsent, nrefused, nunjudged = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  a = a + 4
  local held = true
${leaseFragment ? `  held = ${leaseFragment.name}(KEYS[k + 6], ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]) == 1
  a = a + 5` : ''}
  local marked = -1
  if held then
    local ids, counters, scored, seen = {}, {}, {}, {}
    -- Every accepted id's score in one ZMSCORE (Redis 6.2+; the capture needs 7), in chunks.
    local scores = {}
    for from = 0, nsent - 1, CHUNK do
      local asked = {}
      for j = from, math.min(from + CHUNK, nsent) - 1 do asked[#asked + 1] = ARGV[a + 2 * j] end
      for _, score in ipairs(redis.call('ZMSCORE', set, unpack(asked))) do scores[#scores + 1] = score end
    end
    for j = 0, nsent - 1 do
      local id, seq = ARGV[a + 2 * j], ARGV[a + 2 * j + 1]
      if not seen[id] and scores[j + 1] == seq then
        seen[id] = true
        ids[#ids + 1] = id
        counters[#counters + 1] = id .. ':s'
        counters[#counters + 1] = id .. ':f'
        counters[#counters + 1] = id .. ':u'
        scored[#scored + 1] = nowms
        scored[#scored + 1] = id
      end
    end
    marked = #ids
    if marked > 0 then
      each('ZREM', set, ids)
      if ARGV[1] == 'sent' then each('ZADD', sent, scored) else each('XDEL', stream, ids) end
      each('HDEL', attempts, counters)
    end
    for j = 0, nrefused - 1 do
      local id = ARGV[a + 2 * nsent + j]
      if redis.call('ZSCORE', set, id) then redis.call('HINCRBY', attempts, id .. ':f', 1) end
    end
    for j = 0, nunjudged - 1 do
      local id = ARGV[a + 2 * nsent + nrefused + j]
      if redis.call('ZSCORE', set, id) then redis.call('HINCRBY', attempts, id .. ':u', 1) end
    end
    local head = redis.call('ZRANGE', set, 0, 0)
    if #head == 0 then
      redis.call('ZREM', pending, agg)
    else
      redis.call('ZADD', pending, tonumber(string.match(head[1], '^(%d+)')), agg)
    end
  end
  a = a + 2 * nsent + nrefused + nunjudged
  out[#out + 1] = marked
end
return out`, leaseFragment?.source ?? '');
}

/** KEYS: quarantine hash. ARGV: aggregate, from seq, reason. Reply: the epoch ms (server clock) the quarantine was taken at. */
export const QUARANTINE = relayScript([['quarantine hash', 'hash']], 'nothing was quarantined', `local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({fromSeq = tonumber(ARGV[2]), reason = ARGV[3], at = at}))
return at`);

/**
 * Releases a quarantine only as the caller saw it. KEYS: quarantine hash, the aggregate's set,
 * attempts, the partition's seq hash. ARGV: aggregate, fromSeq, at (ms). Reply: 1
 * released (and its counters reset), 0 not quarantined, 2 quarantined otherwise (another
 * fromSeq or time: taken again since), -1 the partition never held the aggregate, -2 its
 * quarantine entry is not the JSON `QUARANTINE` writes (nothing written).
 */
export const REDRIVE = relayScript([['quarantine hash', 'hash'], ['aggregate set', 'zset'], ['attempts hash', 'hash'], ['seq hash', 'hash']], 'nothing was redriven', `local q = redis.call('HGET', KEYS[1], ARGV[1])
if not q then
  if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then return 0 end
  return -1
end
local ok, entry = pcall(cjson.decode, q)
if not ok or type(entry) ~= 'table' or type(entry.fromSeq) ~= 'number' or type(entry.at) ~= 'number' or type(entry.reason) ~= 'string' then return -2 end
if tonumber(ARGV[2]) ~= entry.fromSeq or tonumber(ARGV[3]) ~= entry.at then return 2 end
redis.call('HDEL', KEYS[1], ARGV[1])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do redis.call('HDEL', KEYS[3], id .. ':s', id .. ':f', id .. ':u') end
return 1`);

/** KEYS: sent set, stream. ARGV: older than ms, limit. */
export const CLEANUP = relayScript([['sent set', 'zset'], ['events stream', 'stream']], 'nothing was cleaned up', `local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('XDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids`);

/**
 * One partition's pending aggregates for the sweeper, and whether it holds anything at all.
 * KEYS: pending, sent, quarantine, live, events, attempts (the last two only for their types:
 * a partition whose stream or attempts hash holds another type is refused here, so the sweep
 * skips and reports it instead of listing aggregates every read of the relay would refuse —
 * oldest, they kept the places of every other partition's). ARGV: before (ms), limit. Reply: `{ holds, live,
 * aggregate, since, … }` — `holds` 1 when pending, sent or quarantine has entries; `live` 1
 * when the partition was written within its listing TTL. Quarantined aggregates are skipped
 * (the relay sends nothing of them until a redrive): the pending set is read in pages of
 * `limit` until `limit` others are found or it ends, so however many aggregates are held, they
 * never take the places of those the sweep can relay.
 */
export const STATUS = relayScript([['pending set', 'zset'], ['sent set', 'zset'], ['quarantine hash', 'hash'], ['live marker', ''], ['events stream', 'stream'], ['attempts hash', 'hash']], 'nothing was relayed', `local limit = tonumber(ARGV[2])
local holds = (redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('HLEN', KEYS[3])) > 0 and 1 or 0
local out = {holds, redis.call('EXISTS', KEYS[4])}
local listed, offset = 0, 0
while listed < limit do
  local page = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', offset, limit)
  for i = 1, #page, 2 do
    if listed < limit and redis.call('HEXISTS', KEYS[3], page[i]) == 0 then
      out[#out + 1] = page[i]
      out[#out + 1] = page[i + 1]
      listed = listed + 1
    end
  end
  if #page < 2 * limit then break end
  offset = offset + limit
end
return out`);

/**
 * Standalone Redis: drops the partition from the list when it holds nothing, in one step (the
 * capture script lists it again in the same step as its next write). KEYS: pending, sent,
 * quarantine, the partition list. ARGV: tag.
 */
export const PRUNE_ATOMIC = relayScript([['pending set', 'zset'], ['sent set', 'zset'], ['quarantine hash', 'hash'], ['partition list', 'set']], 'nothing was pruned', `if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('HLEN', KEYS[3]) > 0 then return 0 end
return redis.call('SREM', KEYS[4], ARGV[1])`);

/**
 * Redis Cluster, before and after dropping a partition from the list (another slot): whether
 * it holds anything or was written within its listing TTL. KEYS: pending, sent, quarantine,
 * live. Reply 1 when it is in use.
 */
export const IN_USE = relayScript([['pending set', 'zset'], ['sent set', 'zset'], ['quarantine hash', 'hash'], ['live marker', '']], 'nothing was pruned', `if redis.call('EXISTS', KEYS[4]) == 1 then return 1 end
if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('HLEN', KEYS[3]) > 0 then return 1 end
return 0`);
