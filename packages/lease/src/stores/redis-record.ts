/**
 * The value the Redis store keeps per key, and the one rule of what counts as one:
 *
 *   <state>|<generation>|<retainMs>|<owner>|<payload>
 *
 * state `h` held, `d` done, `f` released; owner: the holder (`h`), or the holder that settled it
 * (`d`, `f`: so a settle sent again is recognised as this owner's, `SETTLED_FRAGMENT` in
 * `redis-settle-scripts.ts`); payload `=<data>` or empty. The key's TTL is the lease (or keep
 * time) plus `retainMs`, so a record is live while `PTTL > retainMs` — judged by the server's
 * clock — and its generation is remembered for `retainMs` after it stops being live.
 *
 * What counts as a record is defined once per language and the two agree exactly (fuzzed
 * against a real Redis, `test/redis-record-shape.fuzz.test.ts`): `RECORD_FRAGMENT` in Lua, used
 * by every script before it writes anything, and `parseValue` here. Anything else under the
 * prefix is another program's: refused, left alone.
 */

/**
 * The largest fence a record may hold for a claim to take it over (15 digits), so a claim
 * hands out at most 10^15. Past 2^53 Lua's numbers cannot count (the next fence came out as
 * the same fence, or negative), and ioredis 6 reads an integer reply within 57 of 2^53 wrong
 * (9007199254740991 as 9007199254740992); 10^15 leaves room for the renewals and the settle
 * that add one each. No claim of this store gets there; a value with a larger fence is
 * another program's, refused and left alone.
 */
export const LAST_FENCE = '999999999999999';

/**
 * The largest fence a record may hold at all: room above `LAST_FENCE` for renewals and the
 * settle, and below 2^53 - 57, so Lua's numbers and ioredis's integer replies still count it.
 */
export const MAX_RECORD_FENCE = 9_000_000_000_000_000;

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
