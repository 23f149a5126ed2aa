/**
 * What `redrive(ctx, ref)` does with each reference a caller can pass, on every relay store on
 * its real server (Redis, Redis Cluster, the embedded outbox on FerretDB, the transaction-mode
 * store's reads and marks on FerretDB) with a real queue on moto:
 *
 * - a malformed, foreign or wrong reference (not an object, a field of the wrong type, an
 *   unknown key, a partition or collection of another outbox, an aggregate type this outbox
 *   does not declare, an aggregate that was never in that partition) is a typed
 *   `OUTBOX_REDRIVE_REF_INVALID` naming the field: nothing released, nothing sent;
 * - a stale one (the aggregate is not quarantined, or quarantined again since the reference
 *   was taken: `fromSeq` / `quarantinedAt` differ) releases and sends nothing (`redriven: false`);
 * - a reference without the quarantine's identity (`fromSeq` and `quarantinedAt`) is refused,
 *   naming the missing field: kept from before the aggregate was redriven by someone else and
 *   quarantined again (from the same seq), it would have released the newer quarantine;
 * - of redrives of one reference at once exactly one answers `redriven: true` (five rounds,
 *   each quarantined again by the winner's refused relay, then one with the real queue), and
 *   each event is sent once, in seq order.
 */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedriveRefInvalidError } from '../src/errors.js';
import type { ResolvedRelay } from '../src/options.js';
import { relayEntries, type RelayContext, type RelayEntries } from '../src/relay/entry.js';
import { MetricsRecorder } from '../src/relay/metrics.js';
import { relayAggregates } from '../src/relay/relay.js';
import type { OutboundMessage, Sender } from '../src/relay/types.js';
import { sqsSender } from '../src/sqs.js';
import { openSide, SIDES, type OutageSide } from './review3/relay-sides.js';
import { createQueue, scriptedSender } from './support.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const ctx = (): RelayContext => ({ signal: new AbortController().signal, remainingMs: () => 600_000, log: quiet });
const POISON = { maxAttempts: 10, maxUnfinishedAttempts: 3 };

/** The real sender, recording what each call was asked to send (the order the relay sent it in). */
function recording(sender: Sender): Sender & { asked: OutboundMessage[] } {
  const asked: OutboundMessage[] = [];
  return { fifo: sender.fifo, asked, maxMessageBytes: sender.maxMessageBytes?.bind(sender), send: (messages, options) => (asked.push(...messages), sender.send(messages, options)) } as Sender & { asked: OutboundMessage[] };
}

async function receivedSeqs(sqs: SQSClient, url: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (let quiet = 0; quiet < 2; ) {
    const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages ?? [];
    if (got.length === 0) quiet++;
    for (const m of got) {
      const e = JSON.parse(m.Body!) as { aggregateId: string; seq: number };
      out.set(e.aggregateId, [...(out.get(e.aggregateId) ?? []), e.seq]);
    }
  }
  return out;
}

describe.each(SIDES)('redrive(ctx, ref) on the %s store', (name) => {
  let side: OutageSide;
  let queue: { url: string; remove(): Promise<void> };
  let sender: ReturnType<typeof recording>;
  let entries: RelayEntries;
  /** The same outbox with a sender that refuses every event for good: a redrive through it quarantines the aggregate again. */
  let refusing: RelayEntries;
  let where: string;
  const foreignWhere = name === 'redis' || name === 'cluster' ? 'agg-1}x{' : 'another-outbox';

  beforeAll(async () => {
    side = await openSide(name);
    // A standard queue: nothing deduplicates, so a second send of an event would show.
    queue = await createQueue(side.sqs);
    sender = recording(sqsSender({ client: side.sqs, queueUrl: queue.url }));
    const relay: ResolvedRelay = { sender, lease: side.lease, flush: true, leaseMs: 10_000, maxEventsPerAggregate: 10, maxBytesPerRound: 2 * 1024 * 1024, poison: POISON, reserveMs: 0, sweep: { graceMs: 0, maxAggregates: 100, chunk: 25, parallel: 1, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 10 } };
    entries = relayEntries('ticks', relay, side.store, ['tick']);
    refusing = relayEntries('ticks', { ...relay, sender: scriptedSender(() => 'fault') }, side.store, ['tick']);
    // Three aggregates of 3 events, each quarantined from seq 1 by a sender fault.
    await side.record(3, 3);
    const refs = (await side.store.listPending({ limit: 10, before: Date.now() + 60_000 })).sort((a, b) => a.aggregate.localeCompare(b.aggregate));
    expect(refs.map((r) => r.aggregate)).toEqual(['tick/agg-0', 'tick/agg-1', 'tick/agg-2']);
    const faulty = scriptedSender(() => 'fault');
    await relayAggregates({ store: side.store, lease: side.lease, sender: faulty, metrics: new MetricsRecorder() }, refs, { leaseMs: 10_000, maxEventsPerAggregate: 10, poison: POISON, reserveMs: 0, remainingMs: () => 600_000 });
    expect((await side.store.listQuarantined({ limit: 10 })).map((q) => q.aggregate).sort()).toEqual(['tick/agg-0', 'tick/agg-1', 'tick/agg-2']);
    where = refs[0]!.where;
  }, 60_000);
  afterAll(async () => {
    await queue?.remove();
    await side?.close();
  });

  const quarantine = async () => (await side.store.listQuarantined({ limit: 10 })).sort((a, b) => a.aggregate.localeCompare(b.aggregate));

  it('refuses a malformed, foreign or wrong reference with OUTBOX_REDRIVE_REF_INVALID naming the field; nothing released, nothing sent', async () => {
    const before = await quarantine();
    const wrongWhere = name === 'redis' || name === 'cluster' ? 'agg-9' : where;
    const cases: Array<[unknown, string]> = [
      [undefined, 'ref'],
      ['tick/agg-0', 'ref'],
      [[where, 'tick/agg-0'], 'ref'],
      [{ aggregate: 'tick/agg-0' }, 'where'],
      [{ where: 42, aggregate: 'tick/agg-0' }, 'where'],
      [{ where: '', aggregate: 'tick/agg-0' }, 'where'],
      [{ where: foreignWhere, aggregate: 'tick/agg-0' }, 'where'],
      [{ where }, 'aggregate'],
      [{ where, aggregate: 'agg-0' }, 'aggregate'],
      [{ where, aggregate: 'order/agg-0' }, 'aggregate'],
      // As long as this outbox's type: the embedded store once cut the type off by its length.
      [{ where, aggregate: 'tock/agg-0' }, 'aggregate'],
      [{ where, aggregate: 'tick/' }, 'aggregate'],
      [{ where, aggregate: `tick/${'x'.repeat(257)}` }, 'aggregate'],
      [{ where, aggregate: 'tick/agg-0\u0000' }, 'aggregate'],
      // Never in that partition / collection: a wrong or foreign reference, not a stale one.
      [{ where: wrongWhere, aggregate: 'tick/agg-404', fromSeq: 1, quarantinedAt: 0 }, 'aggregate'],
      // The quarantine's identity is required: without it a stale reference could release a newer quarantine.
      [{ where, aggregate: 'tick/agg-0' }, 'fromSeq'],
      [{ where, aggregate: 'tick/agg-0', quarantinedAt: 0 }, 'fromSeq'],
      [{ where, aggregate: 'tick/agg-0', fromSeq: 1 }, 'quarantinedAt'],
      [{ where, aggregate: 'tick/agg-0', fromSeq: 0 }, 'fromSeq'],
      [{ where, aggregate: 'tick/agg-0', fromSeq: '1' }, 'fromSeq'],
      [{ where, aggregate: 'tick/agg-0', fromSeq: 1, quarantinedAt: -1 }, 'quarantinedAt'],
      // `since` is an aggregate's oldest pending event elsewhere; a quarantine's time is quarantinedAt.
      [{ where, aggregate: 'tick/agg-0', fromSeq: 1, since: 0 }, 'since'],
      [{ where, aggregate: 'tick/agg-0', fromSeq: 1, quarantinedAt: 1.5 }, 'quarantinedAt'],
      [{ where, aggregate: 'tick/agg-0', agregate: 'tick/agg-1' }, 'agregate'],
    ];
    for (const [ref, field] of cases) {
      const error = await entries.redrive(ctx(), ref as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(ref)).toBeInstanceOf(RedriveRefInvalidError);
      expect(error).toMatchObject({ code: 'OUTBOX_REDRIVE_REF_INVALID', status: 400, retryable: false, field, issues: [{ field }] });
    }
    expect(await quarantine()).toEqual(before);
    expect(sender.asked).toHaveLength(0);
  });

  it('a stale reference (not quarantined, or quarantined again since) releases and sends nothing', async () => {
    const before = await quarantine();
    const [q0] = before;
    // The quarantine was taken again since this reference was read: another fromSeq or time.
    await expect(entries.redrive(ctx(), { ...q0!, fromSeq: q0!.fromSeq + 1 })).resolves.toMatchObject({ redriven: false, skipped: 'quarantine-changed', metrics: { sent: 0 } });
    await expect(entries.redrive(ctx(), { ...q0!, quarantinedAt: q0!.quarantinedAt - 1 })).resolves.toMatchObject({ redriven: false, skipped: 'quarantine-changed', metrics: { sent: 0 } });
    expect(await quarantine()).toEqual(before);
    expect(sender.asked).toHaveLength(0);
  });

  it('a stale reference without the quarantine identity (redriven by another caller, quarantined again since) releases and sends nothing', async () => {
    const q2 = (await quarantine()).find((q) => q.aggregate === 'tick/agg-2')!;
    // What a caller kept from the listing: the aggregate alone.
    const kept = { where: q2.where, aggregate: q2.aggregate };
    // Another caller redrives it (the whole entry); the queue refuses the events for good, so
    // it is quarantined again, from the same seq — a newer quarantine.
    await expect(refusing.redrive(ctx(), q2)).resolves.toMatchObject({ redriven: true, metrics: { quarantined: 1 } });
    const after = await quarantine();
    const newer = after.find((q) => q.aggregate === 'tick/agg-2')!;
    expect(newer.fromSeq).toBe(q2.fromSeq);
    expect(newer.quarantinedAt).not.toBe(q2.quarantinedAt);
    // The kept reference, and one with only part of the identity, cannot name which quarantine: refused, naming the missing field.
    for (const [ref, field] of [
      [kept, 'fromSeq'],
      [{ ...kept, fromSeq: q2.fromSeq }, 'quarantinedAt'],
      [{ ...kept, quarantinedAt: q2.quarantinedAt }, 'fromSeq'],
    ] as const) {
      const error = await entries.redrive(ctx(), ref as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(ref)).toMatchObject({ code: 'OUTBOX_REDRIVE_REF_INVALID', status: 400, field, issues: [{ field }] });
    }
    // The whole old entry names the older quarantine: changed since.
    await expect(entries.redrive(ctx(), q2)).resolves.toMatchObject({ redriven: false, skipped: 'quarantine-changed', metrics: { sent: 0 } });
    expect(await quarantine()).toEqual(after);
    expect(sender.asked).toHaveLength(0);
  }, 60_000);

  it('redrives of one reference at once: exactly one releases it, the others answer redriven: false (five rounds, each quarantined again)', async () => {
    for (let round = 0; round < 5; round++) {
      const q0 = (await quarantine()).find((q) => q.aggregate === 'tick/agg-0')!;
      const results = await Promise.all([refusing.redrive(ctx(), q0), refusing.redrive(ctx(), q0), refusing.redrive(ctx(), { ...q0 })]);
      expect(results.filter((r) => r.redriven), `round ${round}`).toHaveLength(1);
      for (const r of results.filter((r) => !r.redriven)) expect(['not-quarantined', 'quarantine-changed']).toContain((r as { skipped: string }).skipped);
      // The winner's relay was refused again: quarantined anew (a new identity), nothing sent.
      const next = (await quarantine()).find((q) => q.aggregate === 'tick/agg-0')!;
      expect(next.quarantinedAt).not.toBe(q0.quarantinedAt);
    }
    expect(sender.asked).toHaveLength(0);
  }, 120_000);

  it('two redrives at once: each event sent once, in seq order; the later ones are harmless', async () => {
    const [q0] = await quarantine();
    const ref = { where: q0!.where, aggregate: q0!.aggregate, fromSeq: q0!.fromSeq, quarantinedAt: q0!.quarantinedAt };
    const results = await Promise.all([entries.redrive(ctx(), ref), entries.redrive(ctx(), ref)]);
    expect(results.filter((r) => r.redriven)).toHaveLength(1);
    expect(results.find((r) => !r.redriven)).toMatchObject({ skipped: expect.stringMatching(/^(not-quarantined|quarantine-changed)$/), metrics: { sent: 0 } });
    expect(results.reduce((n, r) => n + r.metrics.sent, 0)).toBe(3);
    const again = await entries.redrive(ctx(), ref);
    expect(again).toMatchObject({ redriven: false, skipped: 'not-quarantined', metrics: { sent: 0 } });
    // Without the quarantine's identity a reference is refused, quarantined or not.
    await expect(entries.redrive(ctx(), { where: ref.where, aggregate: ref.aggregate } as never)).rejects.toMatchObject({ code: 'OUTBOX_REDRIVE_REF_INVALID', field: 'fromSeq' });
    expect(sender.asked.map((m) => JSON.parse(m.body).seq)).toEqual([1, 2, 3]);
    expect((await quarantine()).map((q) => q.aggregate)).toEqual(['tick/agg-1', 'tick/agg-2']);
    expect(await receivedSeqs(side.sqs, queue.url)).toEqual(new Map([['agg-0', expect.arrayContaining([1, 2, 3])]]));
  }, 60_000);

  it('the entry listQuarantined gives, passed whole, redrives that aggregate alone', async () => {
    sender.asked.length = 0;
    const [q1] = await quarantine();
    await expect(entries.redrive(ctx(), q1!)).resolves.toMatchObject({ redriven: true, metrics: { sent: 3 } });
    expect(sender.asked.map((m) => [m.groupKey, JSON.parse(m.body).seq])).toEqual([['tick/agg-1', 1], ['tick/agg-1', 2], ['tick/agg-1', 3]]);
    expect((await quarantine()).map((q) => q.aggregate)).toEqual(['tick/agg-2']);
  }, 60_000);
});
