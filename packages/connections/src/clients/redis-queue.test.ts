/**
 * Which queued commands may legitimately wait long for a reply (pure logic): the Redis command
 * table's `blocking` flag (`@ioredis/commands`), XREAD/XREADGROUP only with BLOCK.
 */
import { afterEach, expect, it, vi } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { BLOCKING_REPLY_MARGIN_MS, blockedForMs, clusterBlockedForMs, isBlocking, noteBlockingWrites, pingedNodes, stuckAtCutOff } from './redis-queue.js';

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

/** A client whose command queue holds `items` (a Denque's reading methods). */
const clientWith = (...items: ReturnType<typeof queued>[]) =>
  ({ commandQueue: { length: items.length, peekFront: () => items[0], peekAt: (i: number) => items[i] } }) as unknown as Redis;

it('a ping waits behind the blocking commands queued before it, each at most its own timeout', () => {
  expect(blockedForMs(clientWith())).toBe(0);
  expect(blockedForMs(clientWith(queued('get', 'k')))).toBe(0);
  expect(blockedForMs(clientWith(queued('blpop', 'a', 'b', 2), queued('get', 'k'), queued('brpop', 'c', '0.5')))).toBe(2_500);
  expect(blockedForMs(clientWith(queued('blmpop', 1.5, 1, 'k', 'LEFT'), queued('bzmpop', '1', 1, 'z', 'MIN')))).toBe(2_500);
  expect(blockedForMs(clientWith(queued('blmove', 's', 'd', 'LEFT', 'RIGHT', 3)))).toBe(3_000);
  expect(blockedForMs(clientWith(queued('xread', 'COUNT', 1, 'BLOCK', 500, 'STREAMS', 's', '$'), queued('wait', 1, 250), queued('waitaof', 1, 0, 100)))).toBe(850);
  expect(blockedForMs(clientWith(queued('xread', 'STREAMS', 's', '0')))).toBe(0); // no BLOCK: not blocking
  // One that may block for ever (or whose timeout cannot be read): no bound, the usual pingTimeoutMs.
  expect(blockedForMs(clientWith(queued('blpop', 'a', 2), queued('blpop', 'b', 0)))).toBe(0);
  expect(blockedForMs(clientWith(queued('xread', 'BLOCK', 0, 'STREAMS', 's', '$')))).toBe(0);
  expect(blockedForMs(clientWith(queued('blpop', 'a', 'soon')))).toBe(0);
  expect(blockedForMs({} as Redis)).toBe(0);
});

afterEach(() => {
  vi.useRealTimers();
});

/** A client whose `sendCommand` writes each command at once (ioredis' queue reading methods), as noted by `noteBlockingWrites`. */
function writingClient() {
  const items: ReturnType<typeof queued>[] = [];
  const commandQueue = { get length() { return items.length; }, peekFront: () => items[0], peekAt: (i: number) => items[i], peekBack: () => items.at(-1) };
  const client = { commandQueue, sendCommand: (command: ReturnType<typeof queued>['command']) => void items.push({ command }) };
  noteBlockingWrites(client as unknown as Redis);
  const send = (name: string, ...args: unknown[]) => client.sendCommand({ name, args });
  return { client: client as unknown as Redis, send, items };
}

/** Fake clocks, the monotonic one (`performance.now()`) included: `vi.advanceTimersByTime` moves both it and the wall clock. */
const fakeClocks = () => vi.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });

it('only what is left of each blocking command from when it was written counts; one after the other, on one connection', () => {
  fakeClocks();
  const { client, send, items } = writingClient();
  send('blpop', 'a', 8);
  vi.advanceTimersByTime(9_000); // its 8 s are over: a live server would have answered it
  expect(blockedForMs(client)).toBe(0);
  items.length = 0;
  send('blpop', 'a', 2); // written at t = 9 s
  vi.advanceTimersByTime(1_000);
  send('get', 'k');
  send('brpop', 'b', 3); // written at t = 10 s, blocks only once the first one ended (t = 11 s): ends at 14 s
  vi.advanceTimersByTime(2_000);
  expect(blockedForMs(client)).toBe(2_000);
  // A blocking command whose write was not noted counts its whole timeout from now.
  items.push(queued('blpop', 'c', 1));
  expect(blockedForMs(client)).toBe(3_000);
});

it("a Cluster's thaw check pings the masters and every connected replica (scaleReads), and waits behind their blocking commands", () => {
  const node = (status: string, ...items: ReturnType<typeof queued>[]) => Object.assign(clientWith(...items), { status }) as Redis;
  const master = node('ready');
  const reading = node('ready', queued('blpop', 'k', 2)); // a replica scaleReads uses: its socket may be the dead one
  const idle = node('wait'); // a replica never connected: a ping would open it
  const all = [master, reading, idle];
  const cluster = { nodes: (role = 'all') => (role === 'master' ? [master] : role === 'slave' ? [reading, idle] : all) } as unknown as Cluster;
  expect(pingedNodes(cluster)).toEqual([master, reading]);
  expect(clusterBlockedForMs(cluster)).toBe(2_000);
});

it('at a cut-off, a blocking head is suspect only once its own timeout plus the margin has passed, and while it is still the head', () => {
  fakeClocks();
  const { client, send, items } = writingClient();
  send('blpop', 'a', 2);
  send('get', 'k');
  const test = stuckAtCutOff(client);
  expect(test).not.toBe(false);
  const stuck = test as () => boolean;
  vi.advanceTimersByTime(2_000 + BLOCKING_REPLY_MARGIN_MS - 1);
  expect(stuck()).toBe(false); // a live server may still be about to answer it
  vi.advanceTimersByTime(1);
  expect(stuck()).toBe(true);
  items.shift(); // answered
  expect(stuck()).toBe(false);
  // One that may block for ever: its silence says nothing, no test at all.
  items.length = 0;
  send('blpop', 'a', 0);
  expect(stuckAtCutOff(client)).toBe(false);
  items.length = 0;
  expect(stuckAtCutOff(client)).toBe(false);
  send('get', 'k');
  expect((stuckAtCutOff(client) as () => boolean)()).toBe(true);
});

it('a wall-clock step moves no blocking write time: a BLPOP stays due when its own timeout says, not when the clock jumped', () => {
  fakeClocks();
  const { client, send } = writingClient();
  send('blpop', 'a', 8);
  const stuck = stuckAtCutOff(client) as () => boolean;
  vi.advanceTimersByTime(1_000);
  // NTP steps the wall clock an hour forward: the BLPOP still has 7 s of its 8 on the server, and is not overdue.
  vi.setSystemTime(Date.now() + 3_600_000);
  expect(blockedForMs(client)).toBe(7_000);
  expect(stuck()).toBe(false);
  // And an hour back: once its 8 s and the margin are over, a socket still silent is suspect all the same.
  vi.setSystemTime(Date.now() - 7_200_000);
  vi.advanceTimersByTime(7_000 + BLOCKING_REPLY_MARGIN_MS);
  expect(blockedForMs(client)).toBe(0);
  expect(stuck()).toBe(true);
});
