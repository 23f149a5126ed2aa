/**
 * Which queued commands may legitimately wait long for a reply (pure logic): the Redis command
 * table's `blocking` flag (`@ioredis/commands`), XREAD/XREADGROUP only with BLOCK.
 */
import { expect, it } from 'vitest';
import { isBlocking } from './redis-queue.js';

const queued = (name: string, ...args: unknown[]) => ({ command: { name, args } });

it('the blocking list pops, moves, WAIT/WAITAOF; XREAD and XREADGROUP only with BLOCK', () => {
  for (const name of ['blpop', 'BRPOP', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof']) {
    expect([name, isBlocking(queued(name, 'k', 0))]).toEqual([name, true]);
  }
  expect(isBlocking(queued('xread', 'BLOCK', 0, 'STREAMS', 's', '$'))).toBe(true);
  expect(isBlocking(queued('xreadgroup', 'GROUP', 'g', 'c', 'block', 100, 'STREAMS', 's', '>'))).toBe(true);
  expect(isBlocking(queued('xread', 'COUNT', 1, 'STREAMS', 's', '0'))).toBe(false);
  for (const name of ['get', 'ping', 'subscribe', 'evalsha', 'no-such-command']) expect([name, isBlocking(queued(name, 'k'))]).toEqual([name, false]);
  expect(isBlocking(undefined)).toBe(false);
  expect(isBlocking({ command: { name: 42 } })).toBe(false);
});
