import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigurationError } from '@steadyfn/handler';
import { checkUrl, parseRedisClientsInfo } from './options.js';

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

describe('checkUrl', () => {
  it('accepts the schemes asked for and never repeats a rejected value (it may hold a password)', () => {
    expect(checkUrl('redis', 'url', 'REDIS_URL', 'rediss://:pw@cache:6380', ['redis://', 'rediss://'])).toBe('rediss://:pw@cache:6380');
    fc.assert(
      fc.property(fc.oneof(fc.webUrl(), fc.string({ maxLength: 60 }), fc.constant(undefined), fc.integer()), fc.stringMatching(/^[0-9a-f]{8}$/).map((hex) => `Zq${hex}`), (url, secret) => {
        const value = typeof url === 'string' ? (url.includes('//') ? url.replace('//', `//user:${secret}@`) : `${url}${secret}`) : url;
        try {
          expect(checkUrl('redis', 'url', 'REDIS_URL', value, ['redis://', 'rediss://'], true)).toBe(value);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigurationError);
          expect((err as Error).message).toMatch(/^redis\(\): REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL or a Unix socket path; got /);
          expect((err as Error).message).not.toContain(secret);
        }
      }),
      { numRuns: 500 },
    );
  });
});
