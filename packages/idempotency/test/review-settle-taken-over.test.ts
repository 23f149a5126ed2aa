/**
 * A first completion refused because the record was taken over is reported
 * (`IDEMPOTENCY_LEASE_LOST`), even when the record reads back completed as this invocation would
 * have completed it. Invocation A's lease runs out while its function runs; invocation B (the
 * retry) claims the key, runs the function and completes the record — same fingerprint, same
 * answer. A then finishes: the store refuses its completion (not its generation). Before, the
 * refusal was read back with `appliedBefore`, which found the record completed with A's own
 * fingerprint and result and took it for A's own earlier completion: nothing was said, and the
 * function's effects ran twice without a line explaining why. A first call's refusal is never
 * "applied before its answer was lost" (a store recognises its own resent settle), so it is
 * always said; a retried settle (`settleLater`) still keeps quiet about one applied before.
 * On the real Redis server, alone (HTTP) and in an SQS batch (one `completeMany`).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, sqsRecord, useBackend } from './support.js';

type Line = Record<string, unknown>;
const LEASE_MS = 500;
const lost = (lines: string[]): Line[] => lines.map((l) => JSON.parse(l) as Line).filter((l) => l.code === 'IDEMPOTENCY_LEASE_LOST');

/** A gate the first run waits on until the second run has completed the record. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('a first completion refused after a take-over on redis', () => {
  const backend = useBackend('redis');
  const options = () => ({ store: backend.store, ttlMs: 3_600_000, leaseMs: LEASE_MS, allowShortLease: true, localCache: false });

  it('HTTP: the first invocation, whose lease ran out and whose record another completed, says IDEMPOTENCY_LEASE_LOST', async () => {
    const lines: string[] = [];
    const second = gate();
    const started = gate();
    let runs = 0;
    const main = handler({ name: `taken-over-${randomUUID()}`, logLevel: 'warn', logSink: (l) => lines.push(l), use: [idempotency(options())] }, async () => {
      if (++runs === 1) {
        started.open();
        await second.wait;
      }
      return { ok: true };
    });
    const event = httpEvent({ key: randomUUID(), body: { amount: 1 } });
    const first = main.aws(event, lambdaContext()) as Promise<{ statusCode: number }>;
    // The lease was claimed before the function started: it has run out LEASE_MS after that at the latest.
    await started.wait;
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    // The retry takes the key over (the first's lease ran out), runs and completes it.
    expect(((await main.aws(event, lambdaContext())) as { statusCode: number }).statusCode).toBe(200);
    expect(runs).toBe(2);
    expect(lost(lines)).toEqual([]);
    second.open();
    expect((await first).statusCode).toBe(200);
    expect(lost(lines)).toEqual([expect.objectContaining({ level: 'warn', code: 'IDEMPOTENCY_LEASE_LOST' })]);
  });

  it('SQS batch: the message whose record another completed says IDEMPOTENCY_LEASE_LOST', async () => {
    const lines: string[] = [];
    const second = gate();
    const started = gate();
    const ids = [randomUUID(), randomUUID()];
    let runs = 0;
    const main = handler({ name: `taken-over-batch-${randomUUID()}`, logLevel: 'warn', logSink: (l) => lines.push(l), use: [idempotency(options())] }, async (input) => {
      const { id } = input as { id: string };
      if (id === ids[1] && ++runs === 1) {
        started.open();
        await second.wait;
      }
      return { ok: true };
    });
    const batch = { Records: ids.map((id) => sqsRecord(id, { id })) };
    const first = main.aws(batch, lambdaContext()) as Promise<{ batchItemFailures: unknown[] }>;
    // The batch's claims were made before its functions started: run out LEASE_MS after that at the latest.
    await started.wait;
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    // The redelivery of the held message alone: its lease ran out, so it is taken over and completed.
    expect(await main.aws({ Records: [sqsRecord(ids[1]!, { id: ids[1] })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toBe(2);
    second.open();
    expect((await first).batchItemFailures).toEqual([]);
    expect(lost(lines)).toEqual([expect.objectContaining({ level: 'warn', code: 'IDEMPOTENCY_LEASE_LOST' })]);
  });
});
