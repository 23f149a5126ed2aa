/**
 * Review: `localCache.maxBytes` is documented as "most bytes of stored results kept in memory"
 * (default 8 MiB), but the cache counted a stored result's UTF-16 length: text outside Latin-1
 * (`€`, CJK, emoji — JSON keeps it unescaped) takes 2 bytes a character in memory and 3–4 in
 * UTF-8, so a cache of such results held two to three times its budget. Results are now counted
 * in UTF-8 bytes (never less than their size in memory).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { counting, silentSink, useBackend } from './support.js';

describe('review: the local cache budget counts bytes', () => {
  const backend = useBackend('redis');

  const run = async (text: string) => {
    const store = counting(backend.store);
    const main = handler({ name: `bytes-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store, ttlMs: 60_000, localCache: { maxBytes: 1_000 } })] }, async () => ({ text }));
    expect(await main.invoke({ id: 1 })).toEqual({ text });
    const before = store.calls.claim ?? 0;
    expect(await main.invoke({ id: 1 })).toEqual({ text });
    return (store.calls.claim ?? 0) - before;
  };

  it('a result of 600 ASCII characters (~610 bytes) fits a 1,000-byte cache: the duplicate makes no store call', async () => {
    expect(await run('a'.repeat(600))).toBe(0);
  });

  it('a result of 600 "€" (~1,810 bytes of UTF-8, 1,200 in memory) does not: the duplicate is answered by the store', async () => {
    expect(await run('€'.repeat(600))).toBe(1);
  });
});
