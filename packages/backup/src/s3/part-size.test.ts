import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DOUBLE_EVERY, MAX_PARTS, MAX_PART_BYTES, MIB, MIN_PART_BYTES, capacityBytes, defaultBudgetBytes, functionMemoryBytes, maxPartFor, partTarget } from './part-size.js';

describe('part-size schedule', () => {
  it('doubles every 1,000 parts from the base and stops at the cap', () => {
    const plan = { basePartBytes: 8 * MIB, maxPartBytes: 64 * MIB };
    expect(partTarget(plan, 1)).toBe(8 * MIB);
    expect(partTarget(plan, 1000)).toBe(8 * MIB);
    expect(partTarget(plan, 1001)).toBe(16 * MIB);
    expect(partTarget(plan, 3001)).toBe(64 * MIB);
    expect(partTarget(plan, 10_000)).toBe(64 * MIB);
  });

  it('never needs more than 10,000 parts for any input below the capacity (unknown sizes)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_PART_BYTES, max: 64 * MIB }), fc.integer({ min: 1, max: 16 }), fc.double({ min: 0, max: 1, noNaN: true }), (base, factor, share) => {
        const plan = { basePartBytes: base, maxPartBytes: Math.min(MAX_PART_BYTES, base * factor) };
        const total = Math.floor(capacityBytes(plan) * share);
        let written = 0;
        let parts = 0;
        while (written < total) {
          parts++;
          written += partTarget(plan, parts);
        }
        return parts <= MAX_PARTS;
      }),
    );
  });

  it('holds about 8 TiB (1,023 × 8 GiB) with the defaults when memory allows, and ~48 GiB with a fixed 5 MiB part', () => {
    expect(capacityBytes({ basePartBytes: 8 * MIB, maxPartBytes: MAX_PART_BYTES })).toBe(1023 * 1000 * 8 * MIB);
    expect(capacityBytes({ basePartBytes: 5 * MIB, maxPartBytes: 5 * MIB })).toBe(MAX_PARTS * 5 * MIB);
    expect(DOUBLE_EVERY * (MAX_PARTS / DOUBLE_EVERY)).toBe(MAX_PARTS);
  });

  it('fits parts in flight in the memory budget, from the function memory', () => {
    expect(functionMemoryBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' })).toBe(1024 * MIB);
    expect(defaultBudgetBytes({ FUNCTION_MEMORY_MB: '512' })).toBe(128 * MIB);
    // No variable (Cloud Functions 2nd gen, OpenWhisk): the container's cgroup limit, when below the machine's.
    expect(functionMemoryBytes({}, 256 * MIB)).toBe(256 * MIB);
    expect(functionMemoryBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' }, 256 * MIB)).toBe(1024 * MIB);
    expect(functionMemoryBytes({}, 0)).toBe(functionMemoryBytes({}, Number.MAX_SAFE_INTEGER));
    expect(functionMemoryBytes({}, 0)).toBeGreaterThan(256 * MIB);
    expect(maxPartFor(128 * MIB, 3)).toBe(Math.floor((128 * MIB) / 5));
    expect(maxPartFor(20 * MIB, 3)).toBe(0); // not even 5 MiB parts fit
  });
});
