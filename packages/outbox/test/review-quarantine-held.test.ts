/**
 * A write into a quarantined aggregate: its events wait for a redrive. Before, the invocation's
 * `outbox` record said `recorded: 1, sent: 0, failed: 0, quarantined: 0` with no pending age —
 * nothing told the event was held. The record now counts the quarantined aggregates the relay
 * skipped (`held`), and a redrive sends every held event in seq order.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { parseEnvelope } from '../src/envelope.js';
import { createBucket, s3Client } from './sqs-servers.js';
import { createQueue, drainQueue, useRedisAndSqs } from './support.js';
import { resolveClaimCheck, s3ClaimCheck } from '../src/s3.js';

const events = { Noted: { aggregateType: 'order', schema: z.object({ note: z.string() }) } };

describe('a flush into a quarantined aggregate (Redis)', () => {
  const servers = useRedisAndSqs();

  it('counts the aggregate as held in the outbox record; the redrive sends the held events in order', async () => {
    const { redis, sqs } = servers;
    // 1 KiB queue, no claim check: a 2,000-character note is a sender fault, and its aggregate is quarantined.
    const queue = await createQueue(sqs, { maxMessageBytes: 1024 });
    try {
      const lines: Array<Record<string, unknown>> = [];
      const store = redisOutbox({ client: redis.client, prefix: redis.prefix });
      const orders = outbox({
        name: 'orders',
        events,
        store,
        relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease },
      });
      const note = handler(
        { input: z.object({ note: z.string() }), use: [orders], logSink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), logLevel: 'info' },
        async ({ note }, ctx) => {
          ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'note', note.length);
          ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: { note } });
        },
      );
      await note.invoke({ note: 'first' });
      await note.invoke({ note: 'x'.repeat(2_000) });
      await note.invoke({ note: 'third' });
      const records = lines.filter((l) => l.msg === 'outbox');
      expect(records.map((r) => [r.recorded, r.sent, r.quarantined, r.held])).toEqual([
        [1, 1, 0, 0],
        [1, 0, 1, 0],
        [1, 0, 0, 1],
      ]);

      const [entry] = await store.relay.listQuarantined({ limit: 10 });
      expect(entry).toMatchObject({ aggregate: 'order/o-1', fromSeq: 2 });
      // The fix: a claim check to S3. Redriven through it, 2 and 3 leave, in order, and nothing is held.
      const s3 = s3Client();
      const fixed = outbox({
        name: 'orders',
        events,
        store,
        relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url, claimCheck: s3ClaimCheck({ s3, bucket: await createBucket(s3, 'obx-held') }) }), lease: redis.lease },
      });
      const admin = handler({ use: [fixed] }, async (_input, ctx) => fixed.redrive(ctx, entry!));
      const redriven = (await admin.invoke({})) as { redriven: boolean; metrics: { sent: number; held: number } };
      expect(redriven).toMatchObject({ redriven: true, metrics: { sent: 2, held: 0 } });
      const bodies = await Promise.all((await drainQueue(sqs, queue.url)).map((m) => resolveClaimCheck(m, { s3 })));
      const seqs = bodies.map((b) => (parseEnvelope(b) as { ok: true; event: { seq: number } }).event.seq);
      expect(seqs.sort()).toEqual([1, 2, 3]);
    } finally {
      await queue.remove();
    }
  });
});
