import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigurationError } from '@steadyfn/handler';
import { nodesFromEnv } from './redis-cluster.js';

describe('REDIS_CLUSTER_NODES parsing', () => {
  it('reads host:port pairs, defaulting the port to 6379', () => {
    expect(nodesFromEnv(' 10.0.0.1:7000, redis-b ,[::1]:7001')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 6379 },
      { host: '[::1]', port: 7001 },
    ]);
    for (const bad of [':6379', 'cache:', 'cache:0', 'cache:70000', 'cache:63.5', '']) expect(() => nodesFromEnv(bad)).toThrow(ConfigurationError);
  });

  it('whatever the variable holds: valid nodes, or a ConfigurationError on "nodes"', () => {
    const entry = fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.domain(), fc.integer({ min: -5, max: 70_000 })).map(([h, p]) => `${h}:${p}`));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.constantFrom(',', ', ', ',,'), (entries, sep) => {
        try {
          const nodes = nodesFromEnv(entries.join(sep)) as Array<{ host: string; port: number }>;
          expect(nodes.length).toBeGreaterThan(0);
          for (const node of nodes) {
            expect(node.host.length).toBeGreaterThan(0);
            expect(Number.isInteger(node.port) && node.port >= 1 && node.port <= 65_535).toBe(true);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigurationError);
          expect((err as ConfigurationError).field).toBe('nodes');
        }
      }),
      { numRuns: 500 },
    );
  });
});
