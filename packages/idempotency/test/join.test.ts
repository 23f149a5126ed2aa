/**
 * Joining the completion to another write (`pendingCompletion`, `RequestAlreadyAppliedError`),
 * on the real stores: a plugin listed after idempotency settles the record inside its own
 * write — a Redis script with the lease's settle fragment, the lease's settle call on MongoDB
 * (FerretDB here; inside a transaction on a replica set, see packages/outbox) — and the
 * plugin then skips its own completion; a duplicate replays the joined answer. A write that
 * finds the request already applied makes the plugin complete with the recorded answer.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler, type Context, type Plugin } from '@steadyfn/handler';
import type { RedisLeaseStore } from '@steadyfn/lease';
import { heldIdempotencyKey, idempotency, pendingCompletion, RequestAlreadyAppliedError, type PendingCompletion } from '../src/index.js';
import { BACKENDS, counting, silentSink, useBackend } from './support.js';

const silent = { logSink: silentSink() };

/** A plugin that, like the outbox, writes after the function and carries the completion in that write. */
function joiningWrite(write: (ctx: Context, completion: PendingCompletion) => Promise<boolean>): Plugin & { seen: Array<PendingCompletion | undefined> } {
  const seen: Array<PendingCompletion | undefined> = [];
  return {
    name: 'joining-write',
    seen,
    async after(ctx, result) {
      const completion = pendingCompletion(ctx, result);
      seen.push(completion);
      if (completion && (await write(ctx, completion))) completion.joined();
    },
  };
}

describe.each(BACKENDS)('completion joined to another write on %s', (name) => {
  const backend = useBackend(name);

  /** Settles the record the way the joining store can: in a script on Redis, by the lease's settle on MongoDB. */
  const settleInWrite = async (completion: PendingCompletion, marker: string): Promise<boolean> => {
    const lease = completion.lease!;
    if (backend.redis) {
      const store = lease.store as RedisLeaseStore;
      const call = store.settleCall(lease.settle);
      // The effect and the completion in one script (a single key here, so any slot works on the cluster).
      const script = `${store.settleFragment.source}
if ${store.settleFragment.check}(KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
${store.settleFragment.name}(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1`;
      return Number(await backend.redis.eval(script, 1, call.key, ...call.args, marker)) === 1;
    }
    return lease.store.settle(lease.settle);
  };

  it('the joined write completes the record; the plugin skips its own completion; a duplicate replays the answer', async () => {
    const store = counting(backend.store);
    let runs = 0;
    const writer = joiningWrite((_ctx, completion) => settleInWrite(completion, 'effect'));
    const fn = handler({ ...silent, use: [idempotency({ store, ttlMs: 3_600_000, key: () => `join-${name}` }), writer] }, () => ({ run: ++runs, at: Date.now() }));
    const first = (await fn.invoke({ a: 1 })) as { run: number; at: number };
    expect(first.run).toBe(1);
    const completion = writer.seen[0]!;
    expect(completion.key).toMatch(/^[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(JSON.parse(completion.answer)).toEqual({ k: 'v', v: first });
    expect(completion.lease?.settle).toMatchObject({ owner: expect.any(String), fence: expect.any(Number), data: expect.stringContaining('|') });
    // Completed by the joined write only.
    expect(store.calls.complete ?? 0).toBe(0);
    expect(store.calls.completeMany ?? 0).toBe(0);
    // Another instance (no local cache) replays the answer from the store.
    const other = handler({ ...silent, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, key: () => `join-${name}`, localCache: false })] }, () => ({ run: ++runs, at: 0 }));
    expect(await other.invoke({ a: 1 })).toEqual(first);
    expect(runs).toBe(1);
  });

  it('a joined completion answers the first call in the stored form too (a Date as its ISO text), as the replay does', async () => {
    let runs = 0;
    const writer = joiningWrite((_ctx, completion) => settleInWrite(completion, 'effect'));
    const key = `join-date-${name}-${randomUUID()}`;
    const fn = handler({ ...silent, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, key: () => key, localCache: false }), writer] }, () => ({ run: ++runs, at: new Date(0), gone: undefined }));
    const first = await fn.invoke({ a: 1 });
    expect(writer.seen[0]).toBeDefined();
    expect(first).toStrictEqual({ run: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(await fn.invoke({ a: 1 })).toStrictEqual(first);
    expect(runs).toBe(1);
  });

  it('a write that finds the request applied makes the plugin complete with the recorded answer and replay it', async () => {
    let runs = 0;
    const recorded = JSON.stringify({ k: 'v', v: { run: 'first attempt' } });
    const fn = handler({ ...silent, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, key: () => `applied-${name}`, localCache: false })] }, () => {
      runs++;
      throw new RequestAlreadyAppliedError(recorded);
    });
    expect(await fn.invoke({})).toEqual({ run: 'first attempt' });
    // Completed: the next duplicate does not run the function.
    expect(await fn.invoke({})).toEqual({ run: 'first attempt' });
    expect(runs).toBe(1);
  });
});

describe('pendingCompletion and heldIdempotencyKey (memory store)', () => {
  it('are undefined without an idempotency plugin, and while it does not hold the record', async () => {
    const { memoryStore } = await import('../src/index.js');
    const seen: Array<[PendingCompletion | undefined, string | undefined]> = [];
    const probe: Plugin = {
      name: 'probe',
      after(ctx, result) {
        seen.push([pendingCompletion(ctx, result), heldIdempotencyKey(ctx)]);
      },
    };
    await handler({ ...silent, use: [probe] }, () => 1).invoke({});
    expect(seen[0]).toEqual([undefined, undefined]);
    const store = memoryStore();
    const fn = handler({ ...silent, use: [idempotency({ store, ttlMs: 3_600_000, key: () => 'k' }), probe] }, () => 2);
    await fn.invoke({});
    expect(seen[1]![0]).toMatchObject({ answer: JSON.stringify({ k: 'v', v: 2 }) });
    expect(seen[1]![1]).toBe(seen[1]![0]!.key);
    // A replay: the function and the inner plugin's after do not run.
    await fn.invoke({});
    expect(seen).toHaveLength(2);
    // Listed before idempotency, the probe's after runs after the plugin completed: nothing to join.
    const late = handler({ ...silent, use: [probe, idempotency({ store, ttlMs: 3_600_000, key: () => 'k2' })] }, () => 3);
    await late.invoke({});
    expect(seen[2]).toEqual([undefined, undefined]);
  });

  it('a joined completion in a batch is left out of afterBatch; the others complete there', async () => {
    const { memoryStore } = await import('../src/index.js');
    const store = counting(memoryStore());
    const writer = joiningWrite(async (ctx, completion) => {
      if ((ctx.input as { n: number }).n !== 1) return false;
      return completion.lease!.store.settle(completion.lease!.settle);
    });
    const fn = handler({ ...silent, use: [idempotency({ store, ttlMs: 3_600_000, key: (ctx) => String((ctx.input as { n: number }).n) }), writer] }, (input) => input);
    const records = [1, 2, 3].map((n) => ({ messageId: `m${n}`, receiptHandle: 'r', body: JSON.stringify({ n }), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:1:q', awsRegion: 'us-east-1' }));
    const lambda = { awsRequestId: 'x', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
    const result = (await fn.aws({ Records: records }, lambda)) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toEqual([]);
    // One completeMany for messages 2 and 3; message 1 was completed by its joined write.
    expect(store.calls.completeMany).toBe(1);
    const again = (await fn.aws({ Records: records }, lambda)) as { batchItemFailures: unknown[] };
    expect(again.batchItemFailures).toEqual([]);
    expect(writer.seen.filter(Boolean)).toHaveLength(3);
  });
});
