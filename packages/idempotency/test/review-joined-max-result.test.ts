/**
 * Review: "joined completions ignore maxResultBytes". A result over what the store keeps (a
 * MongoDB document: 16 MiB of BSON, `store.maxResultBytes`) is, without a join, released with
 * the warning `IDEMPOTENCY_RESULT_NOT_STORABLE` and answered (README). `pendingCompletion`
 * handed such a result to the user's write as a settle anyway: the write that carried it
 * failed on the server's document limit, so the function's effects were never written and the
 * invocation failed, every retry the same way. Here, on FerretDB, a writer that follows the
 * README (its effect, and the completion when it is offered, in one step) must see no
 * completion for such a result: its effect is written, the caller is answered, and the record
 * released as without the join.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, pendingCompletion, type PendingCompletion } from '../src/index.js';
import { useBackend } from './support.js';

describe('review: a joined completion of a result over the store\'s maxResultBytes (FerretDB)', () => {
  const backend = useBackend('mongodb');

  it('is not offered to the write: the effect is written, the caller answered, the record released with IDEMPOTENCY_RESULT_NOT_STORABLE', async () => {
    const codes: string[] = [];
    const sink = (line: string) => {
      const code = (JSON.parse(line) as { code?: unknown }).code;
      if (typeof code === 'string') codes.push(code);
    };
    const effects = backend.collection!.db.collection<{ _id: string; run: number }>(`effects_${randomUUID().slice(0, 8)}`);
    const offered: Array<PendingCompletion | undefined> = [];
    // The effect and (when offered) the completion in one step, as the README's joined write.
    const writer: Plugin = {
      name: 'joining-write',
      async after(ctx, result) {
        const completion = pendingCompletion(ctx, result);
        offered.push(completion);
        if (completion?.lease && !(await completion.lease.store.settle(completion.lease.settle))) throw new Error('lost');
        await effects.insertOne({ _id: randomUUID(), run: offered.length });
        completion?.joined();
      },
    };
    let runs = 0;
    const big = 'x'.repeat(17 * 1024 * 1024);
    const main = handler(
      { name: `joined-big-${randomUUID()}`, logSink: sink, logLevel: 'warn', use: [idempotency({ store: backend.store, ttlMs: 60_000, key: () => 'k1', localCache: false }), writer] },
      async () => {
        runs++;
        return { big };
      },
    );
    try {
      const first = (await main.invoke({ v: 1 })) as { big: string };
      expect(first.big.length).toBe(big.length);
      expect(offered[0]).toBeUndefined();
      expect(await effects.countDocuments()).toBe(1);
      expect(codes).toContain('IDEMPOTENCY_RESULT_NOT_STORABLE');
      // Released at once, as without the join: the retry runs (not IDEMPOTENCY_IN_PROGRESS until the lease ends).
      expect(((await main.invoke({ v: 1 })) as { big: string }).big.length).toBe(big.length);
      expect(runs).toBe(2);
    } finally {
      await effects.drop().catch(() => undefined);
    }
  }, 60_000);

  it('a result under the limit is still offered and joined: a duplicate replays it without running', async () => {
    let runs = 0;
    const offered: Array<PendingCompletion | undefined> = [];
    const writer: Plugin = {
      name: 'joining-write',
      async after(ctx, result) {
        const completion = pendingCompletion(ctx, result);
        offered.push(completion);
        if (completion?.lease && (await completion.lease.store.settle(completion.lease.settle))) completion.joined();
      },
    };
    const text = 'y'.repeat(1024 * 1024);
    const main = handler({ name: `joined-small-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: backend.store, ttlMs: 60_000, key: () => 'k2', localCache: false }), writer] }, async () => {
      runs++;
      return { text };
    });
    expect(((await main.invoke({ v: 1 })) as { text: string }).text.length).toBe(text.length);
    expect(offered[0]?.lease).toBeDefined();
    expect(((await main.invoke({ v: 1 })) as { text: string }).text.length).toBe(text.length);
    expect(runs).toBe(1);
  }, 60_000);
});
