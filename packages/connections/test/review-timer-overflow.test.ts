/**
 * Node fires a timer longer than 2^31−1 ms (about 24.8 days) after 1 ms. Timeout options that
 * arm a timer are refused past it, naming the field and the maximum; a wait bounded by a far
 * deadline is not cut short.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { closeOnSigterm, defineClient } from '@steadyfn/connections';
import { bounded } from '../src/flight.js';

const TOO_LONG = 2 ** 31;

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

const spec = { name: 'fake', create: async () => ({}), close: () => undefined };

describe('timeouts past the longest Node timer', () => {
  it.each(['pingTimeoutMs', 'connectTimeoutMs', 'closeTimeoutMs'])('defineClient refuses %s > 2^31−1 ms', (field) => {
    const thrown = thrownBy(() => defineClient({ ...spec, [field]: TOO_LONG }));
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field });
    expect((thrown as Error).message).toContain('≤ 2147483647');
  });

  it('defineClient refuses budget.backoffMs > 2^31−1 ms', () => {
    const thrown = thrownBy(() => defineClient({ ...spec, budget: { backoffMs: TOO_LONG } }));
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field: 'budget.backoffMs' });
  });

  it('defineClient takes exactly 2^31−1 ms', () => {
    expect(() => defineClient({ ...spec, name: 'longest', connectTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
  });

  it('closeOnSigterm refuses timeoutMs > 2^31−1 ms', () => {
    const thrown = thrownBy(() => closeOnSigterm({ timeoutMs: TOO_LONG }));
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field: 'timeoutMs' });
  });

  it('a wait bounded by a deadline weeks away is not timed out after 1 ms', async () => {
    let answer!: (v: string) => void;
    const waited = bounded(() => new Promise<string>((resolve) => (answer = resolve)), TOO_LONG + 10_000, () => new Error('timed out'), undefined);
    const marker = new Promise<string>((resolve) => setTimeout(() => resolve('short timer'), 30));
    expect(await Promise.race([waited.then(() => 'work', () => 'rejected'), marker])).toBe('short timer');
    answer('connected');
    await expect(waited).resolves.toBe('connected');
  });
});
