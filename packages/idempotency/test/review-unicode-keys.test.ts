/**
 * Review: two different keys must never share a record. A JavaScript string may hold lone
 * surrogates (a JSON body's `"\ud800"` parses to one), which have no UTF-8 form: hashed as
 * UTF-8 each becomes U+FFFD, so the custom keys `'\ud800'`, `'\udc00'` and `'\ufffd'` were one
 * store key — the second request was refused as a reused key (422) or, with the same
 * fingerprint, answered with the first one's replay. `@steadyfn/lease` refuses such keys for the
 * same reason; the plugin hashes keys, so it must hash them injectively instead.
 */
import { createHash, randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { BACKENDS, silentSink, useBackend } from './support.js';

describe('review: keys that differ only in lone surrogates', () => {
  it('storeKey gives distinct store keys for distinct custom keys, header keys and delivery ids', () => {
    const scope = scopeOf('orders');
    for (const kind of ['custom', 'delivery', 'header'] as const) {
      const keys = ['\ud800', '\udc00', '\ufffd', 'a\ud800b', 'a\ufffdb'].map((value) => storeKey(scope, { kind, value }));
      expect(new Set(keys).size).toBe(keys.length);
      const scoped = ['\ud800', '\ufffd'].map((value) => storeKey(scope, { kind, value }, 'caller'));
      expect(new Set(scoped).size).toBe(2);
    }
  });

  it('well-formed keys keep the store keys they always had (records of earlier versions still replay)', () => {
    // The UTF-8 SHA-256 of the key, as before: `orders` scope, custom key `order-ü-1`.
    const scope = scopeOf('orders');
    const sha = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64url');
    expect(storeKey(scope, { kind: 'custom', value: 'order-ü-1' })).toBe(`${scope}:c${sha('order-ü-1')}`);
    expect(storeKey(scope, { kind: 'custom', value: 'order-ü-1' }, 'who')).toBe(`${scope}:c${sha('who\0order-ü-1')}`);
  });

  describe.each(BACKENDS)('on %s', (name) => {
    const backend = useBackend(name);

    it('requests keyed "\\ud800", "\\udc00" and "\\ufffd" are three keys: each runs once, each replays its own answer', async () => {
      const runs: string[] = [];
      const main = handler(
        { name: `uni-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, key: (ctx) => (ctx.input as { id: string }).id })] },
        async (raw) => {
      const input = raw as { id: string };
          runs.push(input.id);
          return { id: input.id };
        },
      );
      const ids = ['\ud800', '\udc00', '\ufffd'];
      for (const id of ids) expect(await main.invoke({ id })).toEqual({ id });
      for (const id of ids) expect(await main.invoke({ id })).toEqual({ id });
      expect(runs).toEqual(ids);
    });
  });
});
