/**
 * The Redis store's Lua, and the value it keeps per key:
 *
 *   <state>|<generation>|<retainMs>|<owner>|<payload>
 *
 * state `h` held, `d` done, `f` released; owner: the holder (`h`), or the holder that settled it
 * (`d`, `f`: so a settle sent again is recognised as this owner's, `SETTLED_FRAGMENT`); payload
 * `=<data>` or empty. The key's TTL is the lease (or keep time) plus `retainMs`, so a record is
 * live while `PTTL > retainMs` — judged by the server's clock — and its generation is
 * remembered for `retainMs` after it stops being live.
 *
 * What counts as a record is defined once per language and the two agree exactly (fuzzed
 * against a real Redis, `test/redis-record-shape.fuzz.test.ts`): `RECORD_FRAGMENT` in Lua, used
 * by every script before it writes anything, and `parseValue` here. Anything else under the
 * prefix is another program's: refused, left alone.
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

/**
 * The largest fence a record may hold at all: room above `LAST_FENCE` for renewals and the
 * settle, and below 2^53 - 57, so Lua's numbers and ioredis's integer replies still count it.
 */
export const MAX_RECORD_FENCE = 9_000_000_000_000_000;

/**
 * How far (ms) the end a done value of the old shape holds may lie from the end its key's TTL
 * tells (`UNOWNED_FRAGMENT`): the two were set by one script, so they part by its run time
 * (the script's time snapshot against `TIME`), or, on a replica promoted since, by the
 * replication delay (Redis before 7 replicates `PX`, not the absolute `PXAT`).
 */
const OLD_END_SLACK_MS = 1_000;

/** The Lua function that recognises a record; see `RECORD_FRAGMENT`. */
export const RECORD_FUNCTION = 'steadyfn_lease_record';

/**
 * Defines `steadyfn_lease_record(value)`: for a value this store writes, its state, fence,
 * retainMs and owner (as text) and its payload (`''` or `=<data>`); nil for anything else — not
 * a string (a missing key, another type's error), not `<h|d|f>|<digits>|<digits>|<no |>|<payload>`,
 * a payload not starting with `=`, or a fence past `MAX_RECORD_FENCE`. The same rule as
 * `parseValue`.
 */
export const RECORD_FRAGMENT = `local function ${RECORD_FUNCTION}(value)
  if type(value) ~= 'string' then return nil end
  local s, f, r, o, rest = string.match(value, '^([hdf])|(%d+)|(%d+)|([^|]*)|(.*)$')
  if not s or tonumber(f) > ${MAX_RECORD_FENCE} or (rest ~= '' and string.byte(rest, 1) ~= 61) then return nil end
  return s, f, r, o, rest
end
`;

/** The Lua function a settle runs; see `RedisLeaseStore.settleFragment`. */
export const SETTLE_FUNCTION = 'steadyfn_lease_settle';

/** The Lua function that checks, writing nothing, whether a settle would succeed. */
export const HOLDS_FUNCTION = 'steadyfn_lease_holds';

/**
 * Defines `steadyfn_lease_record` (`RECORD_FRAGMENT`), `steadyfn_lease_holds(key, owner,
 * fence)`: 1 if `owner` holds generation `fence` of the key (a settle now would succeed), else
 * 0; writes nothing. And `steadyfn_lease_settle(key, owner, fence, mode, data, keepMs)`: 1 if it
 * settled, 0 if the key is not held by `owner` at generation `fence` (nothing is written then).
 * mode `d`: done with `data`, kept `keepMs`; mode `r`: released. Both keep the settling owner.
 */
export const SETTLE_FRAGMENT = `${RECORD_FRAGMENT}local function ${HOLDS_FUNCTION}(key, owner, fence)
  local s, f, r, o = ${RECORD_FUNCTION}(redis.pcall('GET', key))
  if s ~= 'h' or f ~= fence or o ~= owner then return 0 end
  return 1
end
local function ${SETTLE_FUNCTION}(key, owner, fence, mode, data, keepMs)
  local s, f, r, o = ${RECORD_FUNCTION}(redis.pcall('GET', key))
  if s ~= 'h' or f ~= fence or o ~= owner then return 0 end
  local retain = tonumber(r)
  local nextFence = string.format('%d', tonumber(f) + 1)
  if mode == 'd' then
    redis.call('SET', key, 'd|' .. nextFence .. '|' .. r .. '|' .. o .. '|=' .. data, 'PX', string.format('%d', tonumber(keepMs) + retain))
  elseif retain > 0 then
    redis.call('SET', key, 'f|' .. nextFence .. '|' .. r .. '|' .. o .. '|', 'PX', r)
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
 * Defines `steadyfn_lease_unowned(key, s, r, o)`: true when the settled value `s`/`r`/`o` just
 * read from `key` was written before settled values kept their owner, so names none — a
 * release `f|<g>|<r>||` (this store never writes an empty owner since: owners are at least one
 * character), or a done value `d|<g>|<r>|<end>|=<data>` whose owner field held when it ends,
 * the server's epoch ms. That end is told apart from an owner token of digits by the key's
 * TTL, set in the same script to the keep time plus `r`: `TIME + PTTL - r` is that end (to the
 * millisecond; within `OLD_END_SLACK_MS` — a script's run, a replica's clock) whenever it is read.
 */
const UNOWNED_FRAGMENT = `local function steadyfn_lease_unowned(key, s, r, o)
  if s == 'f' then return o == '' end
  if s ~= 'd' or not string.match(o, '^%d+$') then return false end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then return false end
  local t = redis.call('TIME')
  local ends = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl - tonumber(r)
  return math.abs(ends - tonumber(o)) <= ${OLD_END_SLACK_MS}
end
`;

/**
 * The store's own settles only (`SETTLE`, `SETTLE_ONE`; not `SETTLE_FRAGMENT`, which a caller's
 * script includes and whose other writes must not run twice): `steadyfn_lease_settle_once`
 * settles as `steadyfn_lease_settle` does, and when that refuses, answers 1 (writing nothing)
 * if the key already is what this settle makes of it — generation fence + 1, settled by this
 * `owner`, done with `data` (mode `d`) or released (mode `r`): this settle's own first run,
 * whose reply was lost and which ioredis sent again after reconnecting
 * (`autoResendUnfulfilledCommands`, on by default). The owner is checked as well as the fence:
 * fences identify a generation only while the server remembers them — after a restart without
 * persistence another owner can hold, and settle, generation `fence` too, and its done record
 * is not this settle's. A value settled before settled values kept their owner
 * (`UNOWNED_FRAGMENT`) names none: it is judged by generation and data alone, as it was then.
 * A release with `retainMs` 0 deletes the key and leaves nothing to recognise (answered 0).
 */
const SETTLED_FRAGMENT = `${UNOWNED_FRAGMENT}local function steadyfn_lease_settle_once(key, owner, fence, mode, data, keepMs)
  if ${SETTLE_FUNCTION}(key, owner, fence, mode, data, keepMs) == 1 then return 1 end
  local s, f, r, o, rest = ${RECORD_FUNCTION}(redis.pcall('GET', key))
  if not s or f ~= string.format('%d', tonumber(fence) + 1) then return 0 end
  if o ~= owner and not steadyfn_lease_unowned(key, s, r, o) then return 0 end
  if mode == 'd' and s == 'd' and rest == '=' .. data then return 1 end
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
  local s, f, r, o, rest = ${RECORD_FUNCTION}(redis.pcall('GET', KEYS[i]))
  out[i] = 0
  if s == 'h' and tonumber(f) <= ${LAST_FENCE} and o == ARGV[b + 1] and rest == ARGV[b + 2] then
    out[i] = ${SETTLE_FUNCTION}(KEYS[i], ARGV[b + 1], f, 'r', '', '0')
  end
end
return out`);

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

/** A stored value, parsed. */
export interface StoredValue {
  state: 'h' | 'd' | 'f';
  fence: number;
  retainMs: number;
  /** The holder's owner token (`h`), or the holder's that settled it (`d`, `f`). */
  owner: string;
  data: string | undefined;
}

/** `RECORD_FRAGMENT`'s pattern: `\d` is ASCII digits as Lua's `%d`, `[\s\S]` any character as Lua's `.`. */
const RECORD = /^([hdf])\|(\d+)\|(\d+)\|([^|]*)\|((?:=[\s\S]*)?)$/;

/**
 * Parses a value this store wrote; `undefined` for anything else. Recognises exactly what
 * `RECORD_FRAGMENT` recognises (a fence past `MAX_RECORD_FENCE` is another program's).
 */
export function parseValue(value: string): StoredValue | undefined {
  const m = RECORD.exec(value);
  if (!m) return undefined;
  const fence = Number(m[2]);
  if (fence > MAX_RECORD_FENCE) return undefined;
  const payload = m[5]!;
  return { state: m[1] as StoredValue['state'], fence, retainMs: Number(m[3]), owner: m[4]!, data: payload === '' ? undefined : payload.slice(1) };
}
