/**
 * `batchOrder`: messages of one group in an unordered batch run one after another in `seq`
 * order, groups side by side; a failure stops only the rest of its group.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler, RetryableError, TerminalError, type Plugin } from './index.js';
import { runBatch } from './invoke.js';
import { createLogger, type LogRecord } from './logger.js';
import { queueMessage, testDefinition, testFrame } from '../test/support/batch.js';

interface Msg {
  group?: string;
  seq?: number;
}

const batchOf = (msgs: Msg[]) => msgs.map((m, i) => ({ ...queueMessage(i, msgs.length), payload: () => m }));
const byGroup: Plugin = { name: 'by-group', batchOrder: (ctx) => (ctx.input as Msg).group === undefined ? undefined : { group: (ctx.input as Msg).group!, seq: (ctx.input as Msg).seq } };
const label = (m: Msg) => `${m.group ?? '-'}${m.seq ?? ''}`;
const codes = (outcomes: Array<{ ok: boolean; error?: { code: string } }>) => outcomes.map((o) => (o.ok ? 'ok' : o.error!.code));

/** Resolves once `count` callers are waiting; rejects after 2 s (so a batch run one by one fails instead of hanging). */
function rendezvous(count: number) {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++waiting === count) release();
    return Promise.race([all, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${waiting} of ${count} ran side by side`)), 2000))]);
  };
}

describe('batchOrder on an unordered batch', () => {
  it('runs a group one by one in seq order (not arrival order) while groups and ungrouped messages run side by side', async () => {
    const msgs: Msg[] = [{ group: 'a', seq: 3 }, { group: 'b', seq: 1 }, { group: 'a', seq: 1 }, {}, { group: 'a', seq: 2 }, { group: 'b', seq: 2 }];
    const log: string[] = [];
    const running = new Map<string, number>();
    let maxInGroup = 0;
    // The first message of each lane waits until all three lanes (a, b, ungrouped) are running.
    const together = rendezvous(3);
    const fn = async (m: Msg) => {
      const g = m.group ?? '-';
      running.set(g, (running.get(g) ?? 0) + 1);
      maxInGroup = Math.max(maxInGroup, m.group ? running.get(g)! : 0);
      log.push(`>${label(m)}`);
      if (m.seq === 1 || m.group === undefined) await together();
      await new Promise((r) => setTimeout(r, 5));
      log.push(`<${label(m)}`);
      running.set(g, running.get(g)! - 1);
      return label(m);
    };
    const outcomes = await runBatch(testDefinition(fn as (input: unknown) => unknown, [byGroup]), testFrame, batchOf(msgs), false);
    // Outcomes stay in the batch's order.
    expect(outcomes.map((o) => (o.ok ? o.value : o.error.code))).toEqual(['a3', 'b1', 'a1', '-', 'a2', 'b2']);
    const starts = (g: string) => log.filter((l) => l.startsWith(`>${g}`));
    expect(starts('a')).toEqual(['>a1', '>a2', '>a3']);
    expect(starts('b')).toEqual(['>b1', '>b2']);
    expect(maxInGroup).toBe(1);
    // A message starts only after the one before it in its group ended.
    expect(log.indexOf('>a2')).toBeGreaterThan(log.indexOf('<a1'));
    expect(log.indexOf('>a3')).toBeGreaterThan(log.indexOf('<a2'));
    expect(log.indexOf('>b2')).toBeGreaterThan(log.indexOf('<b1'));
  });

  it('a failure stops the rest of its group only: they are not run, fail NOT_PROCESSED, and still get onError and finally', async () => {
    const ran: string[] = [];
    const cleanup: string[] = [];
    const watcher: Plugin = {
      name: 'watcher',
      onError: (ctx, error) => void cleanup.push(`onError ${label(ctx.input as Msg)} ${error.code}`),
      finally: (ctx, outcome) => void cleanup.push(`finally ${label(ctx.input as Msg)} ${outcome.ok ? 'ok' : outcome.error.code}`),
    };
    const fn = async (m: Msg) => {
      ran.push(label(m));
      if (label(m) === 'a2') throw new RetryableError('BUSY', 'busy');
    };
    const msgs: Msg[] = [{ group: 'a', seq: 4 }, { group: 'a', seq: 2 }, { group: 'b', seq: 1 }, { group: 'a', seq: 1 }, { group: 'a', seq: 3 }, { group: 'b', seq: 2 }];
    const outcomes = await runBatch(testDefinition(fn as (input: unknown) => unknown, [byGroup, watcher]), testFrame, batchOf(msgs), false);
    expect(codes(outcomes)).toEqual(['NOT_PROCESSED', 'BUSY', 'ok', 'ok', 'NOT_PROCESSED', 'ok']);
    expect(ran.filter((l) => l.startsWith('a'))).toEqual(['a1', 'a2']);
    expect(ran.filter((l) => l.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(cleanup).toEqual(expect.arrayContaining(['onError a3 NOT_PROCESSED', 'finally a3 NOT_PROCESSED', 'onError a4 NOT_PROCESSED', 'finally a4 NOT_PROCESSED']));
    expect(outcomes.filter((o) => !o.ok).every((o) => !o.ok && o.error.retryable)).toBe(true);
  });

  it("with terminalErrors: 'ack' a terminal failure does not stop its group (it is acknowledged, like on FIFO)", async () => {
    const ran: string[] = [];
    const fn = async (m: Msg) => {
      ran.push(label(m));
      if (m.seq === 1) throw new TerminalError('REJECTED', 'rejected');
    };
    const outcomes = await runBatch(testDefinition(fn as (input: unknown) => unknown, [byGroup], 'ack'), testFrame, batchOf([{ group: 'a', seq: 2 }, { group: 'a', seq: 1 }]), false);
    expect(ran).toEqual(['a1', 'a2']);
    expect(codes(outcomes)).toEqual(['ok', 'REJECTED']);
  });

  it('the first plugin with an answer decides; a throw or a malformed answer is logged and the message runs on its own', async () => {
    const records: LogRecord[] = [];
    const undecided: Plugin = { name: 'undecided', batchOrder: () => undefined };
    const picky: Plugin = {
      name: 'picky',
      batchOrder: (ctx) => {
        const m = ctx.input as Msg;
        if (m.seq === 99) throw new Error('cannot read');
        if (m.seq === 98) return { group: '', seq: 1 };
        if (m.seq === 97) return { group: 'a', seq: Number.NaN };
        return { group: m.group!, seq: m.seq };
      },
    };
    const never: Plugin = { name: 'never', batchOrder: () => ({ group: 'everything' }) };
    const together = rendezvous(4);
    const fn = async (m: Msg) => {
      // a1 and the three refused messages must run side by side.
      if (m.seq !== 2) await together();
      return label(m);
    };
    const def = { ...testDefinition(fn as (input: unknown) => unknown, [undecided, picky, never]), logger: createLogger({}, { write: (r) => void records.push(r) }, 'debug') };
    const outcomes = await runBatch(def, testFrame, batchOf([{ group: 'a', seq: 2 }, { group: 'a', seq: 99 }, { group: 'a', seq: 98 }, { group: 'a', seq: 97 }, { group: 'a', seq: 1 }]), false);
    expect(outcomes.map((o) => (o.ok ? o.value : o.error.code))).toEqual(['a2', 'a99', 'a98', 'a97', 'a1']);
    const warned = records.filter((r) => r.level === 'warn').map((r) => [r.msg, r.fields.plugin]);
    expect(warned).toEqual(
      expect.arrayContaining([
        ['plugin batchOrder hook failed: the message runs on its own', 'picky'],
        ['plugin batchOrder answer ignored: the message runs on its own', 'picky'],
      ]),
    );
    expect(warned).toHaveLength(3);
  });

  it('is not asked on a FIFO batch (one by one in arrival order) or for a lone message', async () => {
    let asked = 0;
    const counting: Plugin = { name: 'counting', batchOrder: (ctx) => (asked++, { group: 'a', seq: (ctx.input as Msg).seq }) };
    const ran: string[] = [];
    const fn = async (m: Msg) => void ran.push(label(m));
    await runBatch(testDefinition(fn as (input: unknown) => unknown, [counting]), testFrame, batchOf([{ group: 'a', seq: 2 }, { group: 'a', seq: 1 }]), true);
    await runBatch(testDefinition(fn as (input: unknown) => unknown, [counting]), testFrame, batchOf([{ group: 'a', seq: 2 }]), false);
    expect(asked).toBe(0);
    expect(ran).toEqual(['a2', 'a1', 'a2']);
  });

  it('through the Lambda SQS adapter: a standard-queue batch reports the failed message and the rest of its group as batch item failures', async () => {
    const ran: string[] = [];
    const main = handler({ use: [byGroup], logSink: () => undefined }, async (input) => {
      const m = input as Msg;
      ran.push(label(m));
      if (label(m) === 'o2') throw new RetryableError('BUSY', 'busy');
    });
    const bodies: Msg[] = [{ group: 'o', seq: 3 }, { group: 'p', seq: 1 }, { group: 'o', seq: 2 }, { group: 'o', seq: 1 }];
    const records = bodies.map((m) => ({
      messageId: randomUUID(),
      receiptHandle: 'rh',
      body: JSON.stringify(m),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders',
      awsRegion: 'us-east-1',
    }));
    const answer = (await main.aws({ Records: records }, { awsRequestId: 'req', functionName: 'f', getRemainingTimeInMillis: () => 30_000 })) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(answer.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([records[0]!.messageId, records[2]!.messageId].sort());
    expect(ran.filter((l) => l.startsWith('o'))).toEqual(['o1', 'o2']);
    expect(ran).toContain('p1');
  });

  it('handler() refuses a batchOrder that is not a function', () => {
    expect(() => handler({ use: [{ name: 'bad', batchOrder: 'seq' } as unknown as Plugin] }, async () => undefined)).toThrow(/use\.0\.batchOrder/);
  });
});
