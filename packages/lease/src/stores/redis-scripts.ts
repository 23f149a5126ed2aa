/**
 * The Redis store's Lua, and the value it keeps per key:
 *
 *   <state>|<generation>|<retainMs>|<owner or end>|<payload>
 *
 * state `h` held (with its owner), `d` done (with when it ends, the server's epoch ms), `f`
 * released; payload `=<data>` or empty. The key's TTL is the lease (or keep time) plus
 * `retainMs`, so a record is live while `PTTL > retainMs` — judged by the server's clock — and
 * its generation is remembered for `retainMs` after it stops being live.
 */
import { luaScript as script } from './redis-eval.js';

/**
 * The largest fence a record may hold for a claim to take it over (15 digits), so a claim
 * hands out at most 10^15. Past 2^53 Lua's numbers cannot count (the next fence came out as
 * the same fence, or negative), and ioredis 6 reads an integer reply within 57 of 2^53 wrong
 * (9007199254740991 as 9007199254740992); 10^15 leaves room for the renewals and the settle
 * that add one each. No claim of this store gets there; a value with a larger fence is
 * another program's, refused and left alone.
 */
const LAST_FENCE = '999999999999999';

/** The Lua function a settle runs; see `RedisLeaseStore.settleFragment`. */
export const SETTLE_FUNCTION = 'steadyfn_lease_settle';

/** The Lua function that checks, writing nothing, whether a settle would succeed. */
export const HOLDS_FUNCTION = 'steadyfn_lease_holds';

/**
 * Defines `steadyfn_lease_holds(key, owner, fence)`: 1 if `owner` holds generation `fence` of
 * the key (a settle now would succeed), else 0; writes nothing. And
 * `steadyfn_lease_settle(key, owner, fence, mode, data, keepMs)`: 1 if it settled, 0 if the key
 * is not held by `owner` at generation `fence` (nothing is written then). mode `d`: done with
 * `data`, kept `keepMs`; mode `r`: released.
 */
export const SETTLE_FRAGMENT = `local function ${HOLDS_FUNCTION}(key, owner, fence)
  local value = redis.pcall('GET', key)
  if type(value) ~= 'string' then return 0 end
  local s, f, r, o = string.match(value, '^([hdf])|(%d+)|(%d+)|([^|]*)|')
  if s ~= 'h' or f ~= fence or o ~= owner then return 0 end
  return 1
end
local function ${SETTLE_FUNCTION}(key, owner, fence, mode, data, keepMs)
  local value = redis.pcall('GET', key)
  if type(value) ~= 'string' then return 0 end
  local s, f, r, o = string.match(value, '^([hdf])|(%d+)|(%d+)|([^|]*)|')
  if s ~= 'h' or f ~= fence or o ~= owner then return 0 end
  local retain = tonumber(r)
  local nextFence = string.format('%d', tonumber(f) + 1)
  if mode == 'd' then
    local t = redis.call('TIME')
    local ends = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(keepMs))
    redis.call('SET', key, 'd|' .. nextFence .. '|' .. r .. '|' .. ends .. '|=' .. data, 'PX', string.format('%d', tonumber(keepMs) + retain))
  elseif retain > 0 then
    redis.call('SET', key, 'f|' .. nextFence .. '|' .. r .. '||', 'PX', r)
  else
    redis.call('DEL', key)
  end
  return 1
end
`;

/**
 * Claims each key: ARGV per key = owner, leaseMs, payload, retainMs, leaseMs + retainMs.
 * Reply per key: {1, fence, pttl} claimed; {0, value, pttl} live record; {-1} a key this store
 * did not write (another value, a fence past `LAST_FENCE`, or another type: left alone) — and
 * then nothing is written for any key of the call, the others answering {-2}.
 */
export const CLAIM = script(`local values, states, fences, retains = {}, {}, {}, {}
local foreign = false
for i = 1, #KEYS do
  local value = redis.pcall('GET', KEYS[i])
  if type(value) == 'table' then
    foreign = true
    states[i] = '!'
  elseif value then
    local s, f, r = string.match(value, '^([hdf])|(%d+)|(%d+)|')
    if not s or tonumber(f) > ${LAST_FENCE} then
      foreign = true
      states[i] = '!'
    else
      values[i], states[i], fences[i], retains[i] = value, s, tonumber(f), tonumber(r)
    end
  end
end
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local b = (i - 1) * 5
  local value = values[i]
  local fence = fences[i] or 0
  local reply = nil
  if states[i] == '!' then
    reply = {-1}
  elseif foreign then
    reply = {-2}
  elseif value and states[i] ~= 'f' then
    local ttl = redis.call('PTTL', key)
    if ttl > retains[i] then reply = {0, value, ttl} end
  end
  if not reply then
    local nextFence = string.format('%d', fence + 1)
    redis.call('SET', key, 'h|' .. nextFence .. '|' .. ARGV[b + 4] .. '|' .. ARGV[b + 1] .. '|' .. ARGV[b + 3], 'PX', ARGV[b + 5])
    reply = {1, tonumber(nextFence), tonumber(ARGV[b + 5])}
  end
  out[i] = reply
end
return out`);

/**
 * Claims one key, as `CLAIM` does for each of its keys, with a reply a client reads without
 * walking nested arrays: ARGV = owner, leaseMs, payload, retainMs (the key's TTL, leaseMs +
 * retainMs, is added up here: one argument fewer to send on every claim, a duplicate's
 * included). Reply:
 * the new fence (an integer ≥ 1) when claimed; `<pttl>:<value>` (text) for a live record;
 * -1 for a key this store did not write (left alone). What a single claim — a duplicate's
 * only request — sends: the batch script's tables, loop and nested reply cost the server and
 * the client's reply parser a few µs a call (measured). A live record comes back as one string,
 * not as `{ttl, value}`: that table saves the server the formatting (about 1 µs inside the
 * script) but ioredis's reply decoder costs more for it (4–9 % more client CPU a call, measured
 * on 2026-12-01).
 */
export const CLAIM_ONE = script(`local value = redis.pcall('GET', KEYS[1])
local fence = 0
if value then
  if type(value) ~= 'string' then return -1 end
  local s, f, r = string.match(value, '^([hdf])|(%d+)|(%d+)|')
  if not s or tonumber(f) > ${LAST_FENCE} then return -1 end
  if s ~= 'f' then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > tonumber(r) then return string.format('%d', ttl) .. ':' .. value end
  end
  fence = tonumber(f)
end
local nextFence = string.format('%d', fence + 1)
redis.call('SET', KEYS[1], 'h|' .. nextFence .. '|' .. ARGV[4] .. '|' .. ARGV[1] .. '|' .. ARGV[3], 'PX', string.format('%d', tonumber(ARGV[2]) + tonumber(ARGV[4])))
return fence + 1`);

/**
 * The store's own settles only (`SETTLE`, `SETTLE_ONE`; not `SETTLE_FRAGMENT`, which a caller's
 * script includes and whose other writes must not run twice): `steadyfn_lease_settle_once`
 * settles as `steadyfn_lease_settle` does, and when that refuses, answers 1 (writing nothing)
 * if the key already is what this settle makes of it — generation fence + 1, done with `data`
 * (mode `d`) or released (mode `r`). Only the holder of generation `fence` writes generation
 * fence + 1 done or released (a takeover makes fence + 1 held; a settle after a takeover, fence
 * + 2): this settle's own first run, whose reply was lost and which ioredis sent again after
 * reconnecting (`autoResendUnfulfilledCommands`, on by default). A done or released value keeps
 * no owner, so this holds while fences increase (`retainMs` > 0); a release with `retainMs` 0
 * deletes the key and leaves nothing to recognise (answered 0).
 */
const SETTLED_FRAGMENT = `local function steadyfn_lease_settle_once(key, owner, fence, mode, data, keepMs)
  if ${SETTLE_FUNCTION}(key, owner, fence, mode, data, keepMs) == 1 then return 1 end
  local value = redis.pcall('GET', key)
  if type(value) ~= 'string' then return 0 end
  local s, f = string.match(value, '^([hdf])|(%d+)|')
  if not f or f ~= string.format('%d', tonumber(fence) + 1) then return 0 end
  if mode == 'd' and s == 'd' and string.match(value, '^d|%d+|%d+|%d*|=(.*)$') == data then return 1 end
  if mode == 'r' and s == 'f' then return 1 end
  return 0
end
`;

/**
 * Settles each key: ARGV per key = owner, fence, mode, data, keepMs. Reply: 1 or 0 per key (1
 * also when the key already is what this settle makes of it: see `SETTLED_FRAGMENT`).
 */
export const SETTLE = script(`${SETTLE_FRAGMENT}${SETTLED_FRAGMENT}local out = {}
for i = 1, #KEYS do
  local b = (i - 1) * 5
  out[i] = steadyfn_lease_settle_once(KEYS[i], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5])
end
return out`);

/** Settles one key as `SETTLE` does: ARGV = owner, fence, mode, data, keepMs. Reply: 1 or 0 (an integer, not a one-entry array). */
export const SETTLE_ONE = script(`${SETTLE_FRAGMENT}${SETTLED_FRAGMENT}return steadyfn_lease_settle_once(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])`);

/**
 * Gives back what a failed claim wrote (`give-back.ts`): ARGV per key = owner, payload (as the
 * claim sent them). A key held by exactly that owner with exactly that payload — the claim's own
 * generation, whatever its fence — is released as its holder's settle would release it
 * (`steadyfn_lease_settle`, mode `r`: generation + 1, or deleted with `retainMs` 0); anything
 * else (free, done, another owner's, another program's value — a fence past `LAST_FENCE`
 * included) is left alone. Reply: 1 or 0 per key.
 */
export const GIVE_BACK = script(`${SETTLE_FRAGMENT}local out = {}
for i = 1, #KEYS do
  local b = (i - 1) * 2
  local value = redis.pcall('GET', KEYS[i])
  out[i] = 0
  if type(value) == 'string' then
    local f, rest = string.match(value, '^h|(%d+)|%d+|(.*)$')
    if f and tonumber(f) <= ${LAST_FENCE} and rest == ARGV[b + 1] .. '|' .. ARGV[b + 2] then
      out[i] = ${SETTLE_FUNCTION}(KEYS[i], ARGV[b + 1], f, 'r', '', '0')
    end
  end
end
return out`);

/**
 * Renews one key: ARGV = owner, fence, leaseMs. If the key is held by `owner` at generation
 * `fence`, it becomes generation fence + 1, held by the same owner with the same payload, for
 * leaseMs (plus its retainMs). Reply: {1, new fence} or {0}.
 */
export const RENEW = script(`local value = redis.pcall('GET', KEYS[1])
if type(value) ~= 'string' then return {0} end
local s, f, r, o, rest = string.match(value, '^([hdf])|(%d+)|(%d+)|([^|]*)|(.*)$')
if s ~= 'h' or f ~= ARGV[2] or o ~= ARGV[1] then return {0} end
local nextFence = string.format('%d', tonumber(f) + 1)
redis.call('SET', KEYS[1], 'h|' .. nextFence .. '|' .. r .. '|' .. o .. '|' .. rest, 'PX', string.format('%d', tonumber(ARGV[3]) + tonumber(r)))
return {1, tonumber(nextFence)}`);

/** One key's value and remaining TTL, read together ({'', 0} for a key of another type: unreadable). */
export const READ = script(`local value = redis.pcall('GET', KEYS[1])
if type(value) == 'table' then return {'', 0} end
if not value then return false end
return {value, redis.call('PTTL', KEYS[1])}`);

/** A stored value, parsed. */
export interface StoredValue {
  state: 'h' | 'd' | 'f';
  fence: number;
  retainMs: number;
  /** The holder's owner token (`h`); when the record ends, in the server's epoch ms (`d`); empty (`f`). */
  owner: string;
  data: string | undefined;
}

const DIGITS = /^\d+$/;

/** Parses a value this store wrote; `undefined` for anything else (a fence past `Number.MAX_SAFE_INTEGER` included). */
export function parseValue(value: string): StoredValue | undefined {
  const state = value[0];
  if ((state !== 'h' && state !== 'd' && state !== 'f') || value[1] !== '|') return undefined;
  const a = value.indexOf('|', 2);
  const b = a < 0 ? -1 : value.indexOf('|', a + 1);
  const c = b < 0 ? -1 : value.indexOf('|', b + 1);
  if (c < 0) return undefined;
  const fence = value.slice(2, a);
  const retain = value.slice(a + 1, b);
  if (!DIGITS.test(fence) || !DIGITS.test(retain) || !Number.isSafeInteger(Number(fence))) return undefined;
  return {
    state,
    fence: Number(fence),
    retainMs: Number(retain),
    owner: value.slice(b + 1, c),
    data: value.charCodeAt(c + 1) === 61 /* = */ ? value.slice(c + 2) : undefined,
  };
}
