import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseRedisClientsInfo } from './options.js';

describe('parseRedisClientsInfo', () => {
  it('reads connected_clients and maxclients from INFO clients', () => {
    const info = '# Clients\r\nconnected_clients:7\r\ncluster_connections:0\r\nmaxclients:10000\r\nblocked_clients:0\r\n';
    expect(parseRedisClientsInfo(info)).toEqual({ used: 7, limit: 10000 });
    expect(parseRedisClientsInfo('# Clients\r\nconnected_clients:7\r\n')).toBeUndefined();
  });

  it('never throws, and returns non-negative finite numbers or nothing, whatever the server sends', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(fc.constantFrom('connected_clients', 'maxclients', 'blocked_clients'), fc.stringMatching(/^[0-9]{0,30}$/))
        .map(([key, value]) => `${key}:${value}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const reading = parseRedisClientsInfo(lines.join(eol));
        if (reading !== undefined) {
          for (const n of [reading.used, reading.limit]) {
            expect(Number.isFinite(n)).toBe(true);
            expect(n).toBeGreaterThanOrEqual(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
