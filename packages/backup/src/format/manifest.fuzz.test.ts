/**
 * The manifest parser reads outside input (an object anyone with bucket access can change):
 * anything that is not the exact committed manifest is refused with a typed error, never
 * another exception, and a valid manifest round-trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupCorruptedError, UnsupportedFormatError } from '../errors.js';
import { parseManifest, serializeManifest, type ManifestBody } from './manifest.js';

const body: ManifestBody = {
  formatVersion: 1,
  tool: { name: '@steadyfn/backup', version: '0.0.0' },
  backupId: '019ad0c1-0000-7000-8000-000000000000',
  job: 'snapshot',
  kind: 'snapshot',
  source: { kind: 'mongodb', engine: 'ferretdb', serverVersion: '7.0.42', database: 'shop' },
  consistency: 'fuzzy',
  start: { time: '2026-11-30T10:00:00.000Z', stream: { name: 'orders', timeline: 1, seq: 4, position: 'p4' } },
  end: { time: '2026-11-30T10:01:00.000Z' },
  encoding: 'ejson-canonical-v2',
  compression: 'gzip-member-per-part',
  datasets: [
    {
      name: 'orders',
      kind: 'mongodb-collection',
      count: 2,
      contentHash: 'a'.repeat(64),
      encoding: 'ejson',
      indexes: [{ name: 's_1', key: { s: 1 }, options: { unique: true } }],
      segments: [{ key: 'shop/backups/019ad0c1-0000-7000-8000-000000000000/data/orders/00000.ndjson.gz', bytes: 10, sha256: 'b'.repeat(64), records: 2, rawBytes: 20, firstKey: '1', lastKey: '2', parts: [{ number: 1, offset: 0, bytes: 10, sha256: 'c'.repeat(64), crc32: 'AAAAAA==', records: 2, rawBytes: 20, firstKey: '1', lastKey: '2' }] }],
    },
  ],
  warnings: [],
  storage: { conditionalWrites: true, serverChecksums: false },
};

const typed = (error: unknown) => error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError;

describe('manifest', () => {
  it('round-trips', () => {
    const parsed = parseManifest(serializeManifest(body), 'm');
    const { selfChecksum, ...rest } = parsed;
    expect(rest).toEqual(body);
    expect(selfChecksum.value).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses arbitrary text with a typed error only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        try {
          parseManifest(text, 'm');
          return false;
        } catch (error) {
          return typed(error);
        }
      }),
    );
  });

  it('refuses any change to a committed manifest that changes its content', () => {
    const text = serializeManifest(body);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 32, max: 126 }), (at, code) => {
        const changed = text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
        let parsed: unknown;
        try {
          parsed = parseManifest(changed, 'm');
        } catch (error) {
          return typed(error);
        }
        // Accepted only if the change left the same content: whitespace between tokens, or a 0
        // written -0 (`"offset": 0` → `"offset":-0`: the same number, 0 in the checksummed canonical JSON).
        const bare = (t: string) => t.replace(/\s/g, '');
        return JSON.stringify((parsed as { backupId: string }).backupId) === JSON.stringify(body.backupId) && bare(changed).replace(/([:[,])-0(?=[,\]}])/g, '$10') === bare(text);
      }),
      // The one change of this manifest that leaves its content equal other than in whitespace
      // (found by trying every printable character at every position): a space before a 0 made "-".
      { numRuns: 2000, examples: [[text.indexOf('"offset": 0') + '"offset":'.length, '-'.charCodeAt(0)]] },
    );
  });

  it('refuses another format version as unsupported, even correctly signed', () => {
    expect(() => parseManifest(serializeManifest({ ...body, formatVersion: 2 } as never), 'm')).toThrow(UnsupportedFormatError);
  });
});
