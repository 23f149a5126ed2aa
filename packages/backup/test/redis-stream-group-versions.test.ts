/**
 * Brief sg, item 1 (pure logic): a typed stream's groups are restored by commands chosen from
 * the target's Redis version, decided before anything is written. Before, every target got
 * `XGROUP CREATE … ENTRIESREAD` (7.0+) and `XGROUP CREATECONSUMER` (6.2+): a 6.x target failed
 * mid-apply. Item 4: the groups' pending entries are cut at `chunkBytes`.
 * The real servers' side: redis-stream-group-old-server.test.ts, redis-stream-group-counters.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { StreamGroupLosses, lowestVersion, streamGroupCommands, streamGroupSupport, type RedisVersion } from '../src/restore/redis-stream-groups.js';
import { splitGroups, type StreamGroup } from '../src/sources/redis-stream-groups.js';

const KEY = Buffer.from('s');
const record = {
  t: 'stream' as const,
  k: 's',
  ttl: -1,
  c: 3,
  v: [],
  s: { id: '9-0', a: 12, d: '2-0' },
  g: [
    { n: 'workers', id: '7-0', r: 10, c: [{ n: 'c1', p: [['5-0', 100, 2]] as Array<[string, number, number]> }, { n: 'idle', p: [] }] },
  ],
};
const names = (commands: Array<Array<string | Buffer | number>>) => commands.map((c) => c.map((part) => (Buffer.isBuffer(part) ? part.toString() : part)).join(' '));

describe('stream group commands by target version', () => {
  it('knows what each version takes', () => {
    const at = (v: RedisVersion | undefined) => streamGroupSupport(v);
    expect(at([4, 0])).toEqual({ streams: false, createConsumer: false, counters: false });
    expect(at([5, 0])).toEqual({ streams: true, createConsumer: false, counters: false });
    expect(at([6, 0])).toEqual({ streams: true, createConsumer: false, counters: false });
    expect(at([6, 2])).toEqual({ streams: true, createConsumer: true, counters: false });
    expect(at([7, 0])).toEqual({ streams: true, createConsumer: true, counters: true });
    expect(at([8, 2])).toEqual({ streams: true, createConsumer: true, counters: true });
    expect(at(undefined)).toEqual({ streams: true, createConsumer: true, counters: true });
    expect(lowestVersion(['# Server\r\nredis_version:7.2.4\r\n', 'redis_version:6.2.5\r\n', 'nothing'])).toEqual([6, 2]);
    expect(lowestVersion(['nothing'])).toBeUndefined();
  });

  it('sends counters and ENTRIESREAD only to 7.0+, CREATECONSUMER only to 6.2+', () => {
    expect(names(streamGroupCommands(KEY, record, streamGroupSupport([7, 0])))).toEqual([
      'XSETID s 9-0 ENTRIESADDED 12 MAXDELETEDID 2-0',
      'XGROUP DESTROY s workers',
      'XGROUP CREATE s workers 7-0 ENTRIESREAD 10',
      'XGROUP CREATECONSUMER s workers c1',
      'XCLAIM s workers c1 0 5-0 IDLE 100 RETRYCOUNT 2 FORCE JUSTID',
      'XGROUP CREATECONSUMER s workers idle',
    ]);
    expect(names(streamGroupCommands(KEY, record, streamGroupSupport([6, 2])))).toEqual([
      'XSETID s 9-0',
      'XGROUP DESTROY s workers',
      'XGROUP CREATE s workers 7-0',
      'XGROUP CREATECONSUMER s workers c1',
      'XCLAIM s workers c1 0 5-0 IDLE 100 RETRYCOUNT 2 FORCE JUSTID',
      'XGROUP CREATECONSUMER s workers idle',
    ]);
    expect(names(streamGroupCommands(KEY, record, streamGroupSupport([6, 0])))).toEqual([
      'XSETID s 9-0',
      'XGROUP DESTROY s workers',
      'XGROUP CREATE s workers 7-0',
      'XCLAIM s workers c1 0 5-0 IDLE 100 RETRYCOUNT 2 FORCE JUSTID',
    ]);
    // A backup made before the counters were carried (no `s`): no XSETID, as before.
    const { s: _s, ...old } = record;
    expect(names(streamGroupCommands(KEY, old, streamGroupSupport([7, 2])))[0]).toBe('XGROUP DESTROY s workers');
  });

  it('says what an older target loses, naming the streams, and refuses a server without streams', () => {
    const on = (v: RedisVersion) => {
      const losses = new StreamGroupLosses(streamGroupSupport(v));
      const problem = losses.check(record, KEY);
      return { problem, warnings: losses.warnings() };
    };
    expect(on([7, 0])).toEqual({ problem: undefined, warnings: [] });
    const six2 = on([6, 2]);
    expect(six2.warnings).toHaveLength(1);
    expect(six2.warnings[0]).toMatch(/before 7\.0.*"s".*entries-read/);
    const six0 = on([6, 0]);
    expect(six0.warnings).toHaveLength(2);
    expect(six0.warnings[1]).toMatch(/before 6\.2.*"s".*not recreated/);
    expect(on([4, 0]).problem).toMatch(/before 5\.0/);
    // A consumer whose pending entries come in a later record (`gp`) is recreated by its XCLAIM.
    const losses = new StreamGroupLosses(streamGroupSupport([6, 0]));
    losses.check({ ...record, g: [{ ...record.g[0]!, r: null, c: [{ n: 'late', p: [] }] }] }, KEY);
    losses.check({ ...record, g: undefined, gp: [{ n: 'workers', c: [{ n: 'late', p: [['8-0', 1, 1]] }] }] }, KEY);
    expect(losses.warnings()).toEqual([]);
  });
});

describe('splitGroups', () => {
  it('cuts pending entries at the budget, in order, each group created once', () => {
    const many = Array.from({ length: 5000 }, (_, i): [string, number, number] => [`${i + 1}-0`, 1000 + i, 1]);
    const groups: StreamGroup[] = [
      { n: 'a', id: '5000-0', r: 5000, c: [{ n: 'c1', p: many.slice(0, 3000) }, { n: 'c2', p: many.slice(3000) }, { n: 'empty', p: [] }] },
      { n: 'b', id: '0-0', r: 0, c: [] },
    ];
    const pieces = splitGroups(groups, 2000, 16 * 1024);
    expect(pieces.length).toBeGreaterThan(5);
    for (const piece of pieces.slice(1)) expect(JSON.stringify(piece).length).toBeLessThanOrEqual(16 * 1024);
    expect(JSON.stringify(pieces[0]).length).toBeLessThanOrEqual(2000);
    expect(pieces.flatMap((p) => p.g.map((g) => g.n))).toEqual(['a', 'b']);
    const claimed = pieces.flatMap((p) => [...p.g, ...p.gp].filter((g) => g.n === 'a').flatMap((g) => g.c.flatMap((c) => c.p.map((e) => `${String(c.n)}:${e[0]}`))));
    expect(claimed).toEqual([...many.slice(0, 3000).map((e) => `c1:${e[0]}`), ...many.slice(3000).map((e) => `c2:${e[0]}`)]);
    expect(pieces[0]!.g[0]!.c.map((c) => c.n)).toEqual(['c1', 'c2', 'empty']);
    expect(splitGroups([], 10, 10)).toEqual([]);
    // Cut by the number of entries, not their idle times: a drill's read-back (idle times grown
    // by digits since the backup) is cut into as many records as the backup.
    const later = groups.map((g) => ({ ...g, c: g.c.map((c) => ({ ...c, p: c.p.map(([id, , n]): [string, number, number] => [id, 123_456_789_012, n]) })) }));
    expect(splitGroups(later, 2000, 16 * 1024).length).toBe(pieces.length);
  });
});
