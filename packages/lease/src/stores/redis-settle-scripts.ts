/**
 * The Redis store's settle scripts: the settle fragment a caller's script includes
 * (`RedisLeaseStore.settleFragment`), the store's own settles (which also recognise a settle
 * sent again), and the give-back of a failed claim. The value they read and write:
 * `redis-record.ts`.
 */
import { luaScript as script } from './redis-eval.js';
import { LAST_FENCE, RECORD_FRAGMENT, RECORD_FUNCTION } from './redis-record.js';

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
 * How far (ms) the end a done value of the old shape holds may lie from the end its key's TTL
 * tells (`UNOWNED_FRAGMENT`): the two were set by one script, so they part by its run time
 * (the script's time snapshot against `TIME`), or, on a replica promoted since, by the
 * replication delay (Redis before 7 replicates `PX`, not the absolute `PXAT`).
 */
const OLD_END_SLACK_MS = 1_000;

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

