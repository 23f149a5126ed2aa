/**
 * The Redis store's claim, renewal and read scripts (its settles: `redis-settle-scripts.ts`; the
 * value every script reads and writes, and the rule of what counts as one: `redis-record.ts`).
 */
import { luaScript as script } from './redis-eval.js';
import { LAST_FENCE, RECORD_FRAGMENT, RECORD_FUNCTION } from './redis-record.js';

/**
 * Claims each key: ARGV per key = owner, leaseMs, payload, retainMs, leaseMs + retainMs.
 * Reply per key: {1, fence, pttl} claimed; {0, value, pttl} live record; {-1} a key this store
 * did not write (another value, a fence past `LAST_FENCE`, or another type: left alone) — and
 * then nothing is written for any key of the call, the others answering {-2}.
 */
export const CLAIM = script(`${RECORD_FRAGMENT}local values, states, fences, retains = {}, {}, {}, {}
local foreign = false
for i = 1, #KEYS do
  local value = redis.pcall('GET', KEYS[i])
  if value then
    local s, f, r = ${RECORD_FUNCTION}(value)
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
export const CLAIM_ONE = script(`${RECORD_FRAGMENT}local value = redis.pcall('GET', KEYS[1])
local fence = 0
if value then
  local s, f, r = ${RECORD_FUNCTION}(value)
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
 * Renews one key: ARGV = owner, fence, leaseMs. If the key is held by `owner` at generation
 * `fence`, it becomes generation fence + 1, held by the same owner with the same payload, for
 * leaseMs (plus its retainMs). Reply: {1, new fence} or {0}.
 */
export const RENEW = script(`${RECORD_FRAGMENT}local s, f, r, o, rest = ${RECORD_FUNCTION}(redis.pcall('GET', KEYS[1]))
if s ~= 'h' or f ~= ARGV[2] or o ~= ARGV[1] then return {0} end
local nextFence = string.format('%d', tonumber(f) + 1)
redis.call('SET', KEYS[1], 'h|' .. nextFence .. '|' .. r .. '|' .. o .. '|' .. rest, 'PX', string.format('%d', tonumber(ARGV[3]) + tonumber(r)))
return {1, tonumber(nextFence)}`);

/** One key's value and remaining TTL, read together ({'', 0} for a key of another type: unreadable). */
export const READ = script(`local value = redis.pcall('GET', KEYS[1])
if type(value) == 'table' then return {'', 0} end
if not value then return false end
return {value, redis.call('PTTL', KEYS[1])}`);
