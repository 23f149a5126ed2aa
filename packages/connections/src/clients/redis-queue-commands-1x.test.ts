/**
 * With `@ioredis/commands` 1.x (allowed by the dependency range, brought by ioredis 5), whose
 * table has no `waitaof` and does not flag `wait` blocking (1.1.1 to 1.5.0 at least), WAIT and
 * WAITAOF are still blocking commands: a thaw check's ping waits behind them (pure logic; the
 * 1.x table's answers for these names are stubbed).
 */
import { expect, it, vi } from 'vitest';
import { isBlocking } from './redis-queue.js';

vi.mock('@ioredis/commands', async (load) => {
  const real = await load<typeof import('@ioredis/commands')>();
  return {
    ...real,
    exists: (name: string) => name !== 'waitaof' && real.exists(name),
    hasFlag: (name: string, flag: string) => (name === 'wait' ? flag !== 'blocking' && real.hasFlag(name, flag) : real.hasFlag(name, flag)),
  };
});

it('WAIT and WAITAOF are blocking with a 1.x command table too', () => {
  expect(isBlocking({ command: { name: 'wait', args: [1, 250] } })).toBe(true);
  expect(isBlocking({ command: { name: 'WAITAOF', args: [1, 0, 100] } })).toBe(true);
  expect(isBlocking({ command: { name: 'blpop', args: ['k', 1] } })).toBe(true);
  expect(isBlocking({ command: { name: 'get', args: ['k'] } })).toBe(false);
});
