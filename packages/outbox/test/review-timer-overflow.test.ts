/**
 * Node fires a timer longer than 2^31−1 ms (about 24.8 days) after 1 ms. The relay's reserve
 * signal, armed for `remainingMs() - reserveMs`, must not abort at once when the deadline is
 * weeks away (OpenWhisk `__OW_DEADLINE` or a provider context far in the future).
 */
import { describe, expect, it } from 'vitest';
import { runOptionsOf } from '../src/relay/entry.js';
import type { ResolvedRelay } from '../src/options.js';

describe('relay reserve signal with a deadline past the longest Node timer', () => {
  it('is not aborted after 1 ms', async () => {
    const outer = new AbortController();
    const relay = { leaseMs: 30_000, maxEventsPerAggregate: 10, maxBytesPerRound: 1_000_000, reserveMs: 1_000 } as unknown as ResolvedRelay;
    const options = runOptionsOf(relay, { signal: outer.signal, remainingMs: () => 2 ** 31 + 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(options.signal?.aborted).toBe(false);
    outer.abort(new Error('deadline'));
    expect(options.signal?.aborted).toBe(true);
  });
});
