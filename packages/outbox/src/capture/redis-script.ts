/**
 * The Lua of the Redis atomic write. A script is atomic but has no rollback: a command that
 * fails half way leaves the earlier ones applied. So the script first *checks everything*
 * without writing — the author's preconditions, the type each command needs of its key
 * (simulated through the write, so `DEL` then `HSET` is fine), that counters hold integers
 * and stay in range, and each joined fragment's own check — and only then writes. The
 * `#!lua` shebang (Redis 7) makes a server over `maxmemory` refuse the script before it runs.
 *
 * KEYS: 1 seq hash, 2 events stream, 3 pending set, then the aggregates' sets, the state
 * keys, the request marker, the aggregates' home keys (single server), the partition's listing keys and each fragment's keys. ARGV[1]:
 * the plan (JSON of indexes); every value is its own ARGV entry, passed through byte for byte.
 *
 *   plan.o   the outbox's own keys [key, type] (stream, seq, sets, marker, homes, partition list):
 *            checked first, as Redis's WRONGTYPE half way through the writes would leave the
 *            earlier ones applied; one of another type refuses with `{'OWNKEY', i, type}`. Checked
 *            again after the commands' simulation (the write refuses a command on an own key
 *            before sending, so this only guards that rule). Before the marker: a redelivery of
 *            a request already applied meets an own key of another type as `OWNKEY` (409), not
 *            as `APPLIED`
 *   plan.r   the request marker [key, value, ttl], read once the own keys' types hold: present →
 *            `{'APPLIED', value}`, nothing written; else set with the write (its value: the
 *            request's answer, or '1')
 *   plan.g   how the partition is listed for the sweeper: [1, list, tag] SADD in this script
 *            (single server); [2, live, ttl] refuse with `{'UNLISTED'}` when the partition's
 *            `live` marker is gone, else renew it; [3, live, ttl] set it (Redis Cluster)
 *   plan.p   the write's partition tag (ARGV index)
 *   plan.h   single server: the aggregates' home keys [homeKey, aggregate] (see `redis-home.ts`):
 *            one recording another partition refuses with `{'HOME', aggregate, home}`; an
 *            absent one is set to `0 <tag>` with the write
 *   plan.d   Redis Cluster: [aggregate, deadline ms] of the home claims made before the write:
 *            an aggregate this partition has not numbered yet, past its deadline (server time),
 *            refuses with `{'HOMESTALE'}` (the claim may have been taken over)
 *
 * Returns `{'OK', seq, streamId, …}` (two per event, in order), or `{'APPLIED', value}`,
 * `{'OWNKEY', i, type}`, `{'UNLISTED'}`, `{'HOME', aggregate, home}`, `{'HOMESTALE'}`, `{'FAILED', i, why, type?}` (check i: `why` is `nokey`, `nofield`, `differs`, `present` or `type` with the key's type), `{'TYPE', i, type}` (command i meets a key of the
 * wrong type), `{'VALUE', i}` (command i: not an integer or out of range), `{'FRAGMENT', name, …}`.
 */
import { luaScript, type LuaScript } from '@steadyfn/lease';

/**
 * Lua another package adds to the write (an idempotency or inbox completion): `check` may
 * return a non-nil value to refuse the write before anything is written; `write` runs after
 * the events are added and may append to the reply (`out[#out + 1] = …`, after the events'
 * pairs). Both see `FK` (the fragment's keys) and `FA` (its args) as Lua tables.
 * `prelude` (e.g. `@steadyfn/lease`'s settle fragment, defining its functions) is placed once at
 * the top of the script, however many fragments bring the same text.
 */
export interface ScriptFragment {
  /** Shown in the refusal (`{'FRAGMENT', name, …}`). */
  name: string;
  /** Lua defining what `check` and `write` call; included once per distinct text. */
  prelude?: string;
  keys: ReadonlyArray<string>;
  args: ReadonlyArray<string>;
  /** Lua statements; `return <value>` refuses the write (the value comes back after the name). */
  check?: string;
  /** Lua statements run last. */
  write: string;
}

const SHEBANG = '#!lua\n';

const HEAD = `local plan = cjson.decode(ARGV[1])
local types = {}
local function typeof(k)
  local t = types[k]
  if t == nil then
    t = redis.call('TYPE', k)['ok']
    types[k] = t
  end
  return t
end
for i, o in ipairs(plan.o) do
  local t = typeof(KEYS[o[1]])
  if t ~= o[2] and t ~= 'none' then return {'OWNKEY', i, t} end
end
if plan.r then
  local prior = redis.call('GET', KEYS[plan.r[1]])
  if prior then return {'APPLIED', prior} end
end
if plan.g and plan.g[1] == 2 and redis.call('EXISTS', KEYS[plan.g[2]]) == 0 then return {'UNLISTED'} end
local homes = {}
if plan.h then
  for _, h in ipairs(plan.h) do
    local v = redis.call('GET', KEYS[h[1]])
    if v then
      local home = string.match(v, '^%d+ (.*)$') or v
      if home ~= ARGV[plan.p] then return {'HOME', ARGV[h[2]], home} end
    else
      homes[#homes + 1] = KEYS[h[1]]
    end
  end
end
if plan.d then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  for _, d in ipairs(plan.d) do
    if now > tonumber(ARGV[d[2]]) and redis.call('HEXISTS', KEYS[1], ARGV[d[1]]) == 0 then return {'HOMESTALE'} end
  end
end
for i, c in ipairs(plan.c) do
  local key = KEYS[c[2]]
  local t = typeof(key)
  local cur
  if c[3] > 0 then
    if t ~= 'hash' and t ~= 'none' then return {'FAILED', i, 'type', t} end
    cur = redis.call('HGET', key, ARGV[c[3]])
  elseif c[1] == 'eq' then
    if t ~= 'string' and t ~= 'none' then return {'FAILED', i, 'type', t} end
    cur = redis.call('GET', key)
  else
    cur = t ~= 'none'
  end
  local missing = t == 'none' and 'nokey' or 'nofield'
  if c[1] == 'eq' then
    if cur ~= ARGV[c[4]] then return {'FAILED', i, cur and 'differs' or missing} end
  elseif c[1] == 'absent' then
    if cur then return {'FAILED', i, 'present'} end
  elseif not cur then
    return {'FAILED', i, missing}
  end
end
local NEED = {HSET = 'hash', HDEL = 'hash', HINCRBY = 'hash', SADD = 'set', SREM = 'set', ZADD = 'zset', ZREM = 'zset', RPUSH = 'list', LPUSH = 'list', INCRBY = 'string'}
local MAKES = {HSET = 'hash', HINCRBY = 'hash', SADD = 'set', ZADD = 'zset', RPUSH = 'list', LPUSH = 'list', INCRBY = 'string', SET = 'string', DEL = 'none'}
local counters = {}
local deleted = {}
local BAD = {}
-- As Redis's string2ll reads a counter: no leading zero, no '-0', no sign '+', no spaces.
local function int(v)
  if v and (v == '0' or string.match(v, '^-?[1-9]%d*$')) then return tonumber(v) end
  return BAD
end
for i, w in ipairs(plan.w) do
  local name, key = w[1], KEYS[w[2]]
  local t = typeof(key)
  local need = NEED[name]
  if need and t ~= need and t ~= 'none' then return {'TYPE', i, t} end
  if name == 'INCRBY' or name == 'HINCRBY' then
    local slot, by
    if name == 'INCRBY' then slot, by = key, ARGV[w[3]] else slot, by = key .. '\\0' .. ARGV[w[3]], ARGV[w[4]] end
    local cur = counters[slot]
    if cur == nil then
      local v = false
      if t ~= 'none' and not deleted[key] then
        if name == 'INCRBY' then v = redis.call('GET', key) else v = redis.call('HGET', key, ARGV[w[3]]) end
      end
      cur = v and int(v) or 0
    end
    if cur == BAD then return {'VALUE', i} end
    cur = cur + tonumber(by)
    if cur > 9007199254740991 or cur < -9007199254740991 then return {'VALUE', i} end
    counters[slot] = cur
  elseif name == 'SET' then
    counters[key] = int(ARGV[w[3]])
  elseif name == 'HSET' then
    for j = 3, #w, 2 do counters[key .. '\\0' .. ARGV[w[j]]] = int(ARGV[w[j + 1]]) end
  elseif name == 'HDEL' then
    for j = 3, #w do counters[key .. '\\0' .. ARGV[w[j]]] = 0 end
  elseif name == 'DEL' then
    deleted[key] = true
    for slot in pairs(counters) do
      if slot == key or string.sub(slot, 1, #key + 1) == key .. '\\0' then counters[slot] = nil end
    end
  end
  if MAKES[name] then types[key] = MAKES[name] end
end
for i, o in ipairs(plan.o) do
  local t = types[KEYS[o[1]]]
  if t ~= o[2] and t ~= 'none' then return {'OWNKEY', i, t} end
end
`;

const WRITES = `
if plan.r then redis.call('SET', KEYS[plan.r[1]], ARGV[plan.r[2]], 'PX', ARGV[plan.r[3]]) end
for _, k in ipairs(homes) do redis.call('SET', k, '0 ' .. ARGV[plan.p]) end
if plan.g then
  if plan.g[1] == 1 then redis.call('SADD', KEYS[plan.g[2]], ARGV[plan.g[3]])
  else redis.call('SET', KEYS[plan.g[2]], '1', 'PX', ARGV[plan.g[3]]) end
end
for _, w in ipairs(plan.w) do
  local args = {}
  for j = 3, #w do args[#args + 1] = ARGV[w[j]] end
  redis.call(w[1], KEYS[w[2]], unpack(args))
end
local out = {'OK'}
for _, e in ipairs(plan.e) do
  local agg = ARGV[e[1]]
  local seq = redis.call('HINCRBY', KEYS[1], agg, 1)
  local id = redis.call('XADD', KEYS[2], '*', 'a', agg, 's', seq, 'i', ARGV[e[2]], 'e', ARGV[e[3]] .. seq .. ARGV[e[4]], 't', ARGV[e[6]], 'p', ARGV[e[7]])
  redis.call('ZADD', KEYS[e[5]], seq, id)
  redis.call('ZADD', KEYS[3], 'NX', tonumber(string.match(id, '^(%d+)')), agg)
  out[#out + 1] = seq
  out[#out + 1] = id
end
`;

/** Lua that binds `FK`/`FA` to a fragment's slice of KEYS/ARGV. */
function bind(keyStart: number, keyCount: number, argStart: number, argCount: number): string {
  return `FK = {}\nfor j = 1, ${keyCount} do FK[j] = KEYS[${keyStart - 1} + j] end\nFA = {}\nfor j = 1, ${argCount} do FA[j] = ARGV[${argStart - 1} + j] end\n`;
}

const cache = new Map<string, LuaScript>();

/**
 * The script for a write with these fragments at these positions. Scripts differ only by
 * their fragments and offsets, so few variants exist; each is cached by its text.
 */
export function captureScript(fragments: ReadonlyArray<{ fragment: ScriptFragment; keyStart: number; argStart: number }>): LuaScript {
  let checks = '';
  let writes = '';
  const preludes = new Set<string>();
  for (const { fragment, keyStart, argStart } of fragments) {
    if (fragment.prelude) preludes.add(fragment.prelude);
    const binding = bind(keyStart, fragment.keys.length, argStart, fragment.args.length);
    if (fragment.check) {
      checks += `do\nlocal FK, FA\n${binding}local refused = (function()\n${fragment.check}\nend)()\nif refused ~= nil then return {'FRAGMENT', ${JSON.stringify(fragment.name)}, refused} end\nend\n`;
    }
    writes += `do\nlocal FK, FA\n${binding}${fragment.write}\nend\n`;
  }
  const source = `${SHEBANG}${preludes.size > 0 ? `${[...preludes].join('\n')}\n` : ''}${HEAD}${checks}${WRITES}${writes}return out\n`;
  let script = cache.get(source);
  if (!script) {
    script = luaScript(source);
    if (cache.size < 64) cache.set(source, script);
  }
  return script;
}
