/**
 * An inbox completion the store never takes while the lease lasts is given up, and said so at
 * error (`INBOX_COMPLETION_ABANDONED`, consumer and event id, no payload): the redelivery after
 * the lease then runs the effect again, and the log explains that second effect. A completion
 * that succeeds on a retry says nothing of the kind (inbox-completion-restart.test.ts covers
 * that on a real restarted Redis). The store here is the in-memory idempotency store whose
 * `completeMany` fails as a store that is down does: pure logic, no server.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { memoryStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { eventually } from '../../../test/support/wait.js';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { lambdaContext, sqsRecord } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };

/** The memory store, except that every settle (completion or release) fails as a store that is down. */
function settlesFail(store: IdempotencyStore): IdempotencyStore & { settles: number } {
  const counted = {
    ...store,
    settles: 0,
    async completeMany(): Promise<boolean[]> {
      counted.settles++;
      throw new Error('Connection is closed.');
    },
  };
  return counted;
}

describe('an inbox completion the store never takes', () => {
  it('is retried while the lease lasts, then given up at error; the redelivery after the lease runs the effect again', async () => {
    const store = settlesFail(memoryStore());
    const lines: string[] = [];
    const effects: string[] = [];
    const ship = handler({ name: 'ship', logLevel: 'info', logSink: (line) => void lines.push(line), use: [inbox({ store, consumer: `shipping-${randomUUID()}`, leaseMs: 400 })] }, (_input, ctx) => {
      effects.push(ctx.inbox.event.id);
    });
    const body = serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {}), 1);
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId: randomUUID() })] }, lambdaContext())).toEqual({ batchItemFailures: [] });

    await eventually(() => lines.some((l) => l.includes('INBOX_COMPLETION_ABANDONED')));
    expect(store.settles, 'tried more than once before giving up').toBeGreaterThan(1);
    const abandoned = JSON.parse(lines.find((l) => l.includes('INBOX_COMPLETION_ABANDONED'))!) as Record<string, unknown>;
    expect(String(abandoned.level).toLowerCase()).toBe('error');
    expect(abandoned).toMatchObject({ eventId: JSON.parse(body).id });
    expect(JSON.stringify(abandoned)).not.toMatch(/amountCents|Connection is closed/);

    // The record expired in progress: the redelivery runs the effect again — what the line warned of.
    await eventually(async () => {
      const answer = (await ship.aws({ Records: [sqsRecord(body, { messageId: randomUUID() })] }, lambdaContext())) as { batchItemFailures: unknown[] };
      return answer.batchItemFailures.length === 0 && effects.length === 2;
    });
  });
});
