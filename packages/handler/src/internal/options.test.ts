import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors.js';
import { intOption, msOption, oneOfOption, stringOption } from './options.js';

describe('option validators', () => {
  it('return the fallback for undefined and the value when valid', () => {
    expect(msOption('x', 'ttlMs', undefined, 500)).toBe(500);
    expect(msOption('x', 'ttlMs', 20, 500)).toBe(20);
    expect(intOption('x', 'max', 3, 1, 1, 10)).toBe(3);
    expect(oneOfOption('x', 'mode', 'b', ['a', 'b'] as const, 'a')).toBe('b');
    expect(stringOption('x', 'name', undefined, 'dflt')).toBe('dflt');
  });

  it('throw a terminal ConfigurationError naming the option, the expectation and the value', () => {
    let caught: unknown;
    try {
      msOption('idempotency', 'ttlMs', -1, 500);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const error = caught as ConfigurationError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.field).toBe('ttlMs');
    expect(error.message).toBe('idempotency(): option "ttlMs" must be a whole number of milliseconds ≥ 1; got -1');
    expect(error.issues).toEqual([{ field: 'ttlMs', message: error.message, expected: 'a whole number of milliseconds ≥ 1' }]);
    expect(() => msOption('x', 'ttlMs', '24h', 1)).toThrow(/got "24h"/);
    expect(() => intOption('x', 'max', 11, 1, 1, 10)).toThrow(/from 1 to 10; got 11/);
    expect(() => oneOfOption('x', 'mode', 'c', ['a', 'b'], 'a')).toThrow(/one of "a", "b"; got "c"/);
    expect(() => stringOption('x', 'name', '')).toThrow(/non-empty string; got ""/);
  });
});
