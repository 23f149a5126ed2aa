/**
 * One definition of a Redis lease record, in two languages: the Lua every script runs before it
 * writes (`RECORD_FRAGMENT`) and the client's `parseValue` recognise exactly the same values,
 * with the same fields — fuzzed against the real Redis. Before, the claim scripts matched only
 * `^([hdf])|(%d+)|(%d+)|` while `parseValue` needed a fourth `|`: a value such as `h|1|0|x` (3
 * separators after the state) was a live record to the batch script, which claimed the batch's
 * other keys, and unreadable to the client, which then threw — the keys it had written stayed
 * held (and without a TTL such a value was simply overwritten). Now a batch meeting one refuses
 * before writing anything.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError } from '../src/index.js';
import { MAX_RECORD_FENCE, RECORD_FRAGMENT, RECORD_FUNCTION, parseValue } from '../src/stores/redis-record.js';
import { token, useBackend } from './support/backends.js';

/** Returns, per ARGV value, the Lua recogniser's fields, or 0 for "not a record". */
const RECOGNISE = `${RECORD_FRAGMENT}local out = {}
for i = 1, #ARGV do
  local s, f, r, o, rest = ${RECORD_FUNCTION}(ARGV[i])
  if s then out[i] = {s, f, r, o, rest} else out[i] = 0 end
end
return out`;

const PIECE = fc.constantFrom('h', 'd', 'f', 'x', 'H', '|', '|', '|', '=', '0', '1', '9', '007', 'o', ':', ' ', '%', '.', 'é', '🎉', '\n', '\u0000', '-', '+', 'e5');
const DIGITS = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^\d{1,4}$/) },
  fc.constantFrom('', '0', '00', '999999999999999', '1000000000000000', String(MAX_RECORD_FENCE), String(MAX_RECORD_FENCE + 1), '9007199254740993', '1'.padEnd(400, '0'), '1e3', ' 1', '-1', '0x1'),
);
const FIELD = fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[!-{}~]{0,8}$/) }, fc.string({ unit: 'grapheme', maxLength: 6 }));
const PAYLOAD = fc.oneof(fc.constant(''), { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }).map((d) => `=${d}`) }, FIELD);

/** Values around the shape: random pieces, a record with each part varied, and separators dropped or doubled. */
const VALUE = fc.oneof(
  fc.array(PIECE, { maxLength: 14 }).map((p) => p.join('')),
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom('h', 'd', 'f') }, fc.constantFrom('x', '', 'hh')),
        DIGITS,
        DIGITS,
        FIELD,
        PAYLOAD,
        fc.oneof({ weight: 4, arbitrary: fc.constant(5) }, fc.integer({ min: 2, max: 4 })),
        fc.constantFrom('', '|'),
      )
      .map(([s, f, r, o, p, parts, trailer]) => [s, f, r, o, p].slice(0, parts).join('|') + (parts < 5 ? trailer : '')),
  },
  fc.string({ unit: 'grapheme', maxLength: 16 }).map((t) => `h|${t}`),
);

describe('Redis lease records: the Lua recogniser and parseValue agree', () => {
  const backend = useBackend('redis');

  it('on any value, fuzzed, with the same fields (against the real Redis)', async () => {
    const redis = backend.redis as Redis;
    let records = 0;
    let others = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(VALUE, { minLength: 1, maxLength: 60 }), async (values) => {
        const lua = (await redis.eval(RECOGNISE, 0, ...values)) as Array<0 | [string, string, string, string, string]>;
        values.forEach((value, i) => {
          const seen = lua[i]!;
          const parsed = parseValue(value);
          if (seen === 0) {
            others++;
            expect(parsed, JSON.stringify(value)).toBeUndefined();
            return;
          }
          records++;
          const [s, f, r, o, rest] = seen;
          expect(parsed, JSON.stringify(value)).toEqual({ state: s, fence: Number(f), retainMs: Number(r), owner: o, data: rest === '' ? undefined : rest.slice(1) });
        });
      }),
      { numRuns: 300 },
    );
    // The generators reach both sides of the rule.
    expect(records).toBeGreaterThan(100);
    expect(others).toBeGreaterThan(100);
  });

  it('on the edges named in the rule', async () => {
    const redis = backend.redis as Redis;
    const cases: Array<[string, boolean]> = [
      ['h|1|0|o|', true],
      ['h|1|0|o|=', true],
      ['d|3|5|o|=a|b', true],
      ['f|2|0||', true],
      [`h|${MAX_RECORD_FENCE}|0|o|`, true],
      [`h|${MAX_RECORD_FENCE + 1}|0|o|`, false],
      ['h|1|0|x', false], // three separators after the state
      ['h|1|0|o|junk', false], // a payload not starting with '='
      ['h|1|0', false],
      ['h||0|o|', false],
      ['x|1|0|o|', false],
    ];
    const lua = (await redis.eval(RECOGNISE, 0, ...cases.map(([v]) => v))) as unknown[];
    cases.forEach(([value, record], i) => {
      expect(lua[i] !== 0, value).toBe(record);
      expect(parseValue(value) !== undefined, value).toBe(record);
    });
  });
});

/** Values that look like records to a looser rule: three separators after the state, a payload without `=`. */
const NEAR_RECORDS = ['h|1|0|x', 'd|1|0|9', 'h|1|0|o|junk'];

describe.each(['redis', 'cluster'] as const)('a batch meeting a near-record value on %s', (name) => {
  const backend = useBackend(name);
  const raw = (key: string): Promise<string | null> => backend.redis!.get(backend.prefix + key);

  it.each(NEAR_RECORDS.flatMap((value) => [[value, true] as const, [value, false] as const]))('%s (TTL: %s): refused before anything is written, and left alone', async (value, ttl) => {
    const run = randomUUID();
    // One slot: one script, which must refuse before its first write.
    const keys = [`{${run}}a`, `{${run}}b`, `{${run}}c`];
    const foreign = keys[1]!;
    if (ttl) await backend.redis!.set(backend.prefix + foreign, value, 'PX', 60_000);
    else await backend.redis!.set(backend.prefix + foreign, value);
    const owner = token();
    await expect(backend.store.claimMany(keys.map((key) => ({ key, owner, leaseMs: 60_000 })))).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    // Nothing written: not claimed and given back (that would leave a released record), absent.
    expect(await raw(keys[0]!)).toBeNull();
    expect(await raw(keys[2]!)).toBeNull();
    expect(await raw(foreign)).toBe(value);
    // The single path agrees, and so does a read.
    await expect(backend.store.claim({ key: foreign, owner, leaseMs: 60_000 })).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    await expect(backend.store.get(foreign)).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    expect(await raw(foreign)).toBe(value);
  });
});

