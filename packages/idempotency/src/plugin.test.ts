/** Plugin logic that needs no server: options, failure handling and batch bookkeeping (memory store). */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TerminalError, handler, type Context } from '@steadyfn/handler';
import { idempotency } from './plugin.js';
import { memoryStore } from './stores/memory.js';
import type { IdempotencyStore } from './types.js';

const silent = { logSink: () => undefined };

function failing(store: IdempotencyStore, which: keyof IdempotencyStore): IdempotencyStore {
  return { ...store, [which]: async () => Promise.reject(new Error('connection reset')) };
}

describe('idempotency options', () => {
  it('rejects a bad ttlMs, leaseMs, store or option with a ConfigurationError naming it', () => {
    const config = (field: string) => expect.objectContaining({ code: 'CONFIG_INVALID', field, retryable: false });
    expect(() => idempotency({ store: memoryStore(), ttlMs: 0 })).toThrow(config('ttlMs'));
    expect(() => idempotency({ store: memoryStore(), ttlMs: '24h' as never })).toThrow(config('ttlMs'));
    expect(() => idempotency({ store: memoryStore() } as never)).toThrow(config('ttlMs'));
    expect(() => idempotency({ store: memoryStore(), ttlMs: 3_600_000, leaseMs: -1 })).toThrow(config('leaseMs'));
    expect(() => idempotency({ store: {} as never, ttlMs: 3_600_000 })).toThrow(config('store'));
    expect(() => idempotency({ store: memoryStore(), ttlMs: 3_600_000, onConcurrent: 'later' as never })).toThrow(config('onConcurrent'));
    expect(() => idempotency({ store: memoryStore(), ttlMs: 3_600_000, key: 'body' as never })).toThrow(config('key'));
    expect(() => idempotency({ store: memoryStore(), ttlMs: -1 })).toThrow('idempotency(): option "ttlMs" must be a whole number of milliseconds ≥ 1 and ≤ 1000000000000; got -1');
    expect(() => idempotency({ store: memoryStore(), ttlMs: 5_400_000, leaseMs: 30_000 })).not.toThrow();
  });

  it('a key function that finds nothing is a 400, or no idempotency with required: false', async () => {
    let runs = 0;
    const key = (ctx: Context) => (ctx.input as { id?: string }).id;
    const strict = handler({ ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, key })] }, () => ++runs);
    await expect(strict.invoke({})).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
    const lax = handler({ ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, key, required: false })] }, () => ++runs);
    await lax.invoke({});
    await lax.invoke({});
    expect(runs).toBe(2);
    await lax.invoke({ id: 'a' });
    await lax.invoke({ id: 'a' });
    expect(runs).toBe(3);
  });

  it('the same custom key with another payload is 422; namespace shares records across functions', async () => {
    const store = memoryStore();
    let runs = 0;
    const a = handler({ ...silent, name: 'a', use: [idempotency({ store, ttlMs: 3_600_000, key: () => 'k', namespace: 'shared' })] }, () => ++runs);
    const b = handler({ ...silent, name: 'b', use: [idempotency({ store, ttlMs: 3_600_000, key: () => 'k', namespace: 'shared' })] }, () => ++runs);
    expect(await a.invoke({ x: 1 })).toBe(1);
    expect(await b.invoke({ x: 1 })).toBe(1);
    await expect(b.invoke({ x: 2 })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const c = handler({ ...silent, name: 'c', use: [idempotency({ store, ttlMs: 3_600_000, key: () => 'k' })] }, () => ++runs);
    expect(await c.invoke({ x: 1 })).toBe(2);
  });
});

describe('store failures', () => {
  it('a store that cannot claim fails the invocation as retryable 503 before the function runs', async () => {
    let runs = 0;
    const main = handler({ ...silent, use: [idempotency({ store: failing(memoryStore(), 'claim'), ttlMs: 3_600_000 })] }, () => ++runs);
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', retryable: true });
    expect(runs).toBe(0);
  });

  it('a store that cannot complete does not fail an invocation whose effects already happened', async () => {
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store: failing(memoryStore(), 'complete'), ttlMs: 3_600_000 })] }, () => 'done');
    expect(await main.invoke({})).toBe('done');
    expect(lines.some((l) => l.includes('IDEMPOTENCY_STORE_UNAVAILABLE'))).toBe(true);
    // Neither the payload nor a stack reaches the log.
    expect(lines.join('\n')).not.toMatch(/connection reset|at .*\.ts:/);
  });

  it('a result that is not JSON is returned, and its record released so a retry runs', async () => {
    let runs = 0;
    const main = handler({ ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, localCache: false })] }, () => ({ big: BigInt(++runs) }));
    const deliveryId = randomUUID();
    expect(await main.invoke({}, { deliveryId })).toEqual({ big: 1n });
    expect(await main.invoke({}, { deliveryId })).toEqual({ big: 2n });
  });
});

describe('errors', () => {
  it('cacheErrors as a function chooses which errors are replayed', async () => {
    let runs = 0;
    const main = handler(
      { ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, cacheErrors: (e) => e.code === 'CARD_DECLINED' })] },
      (input) => {
        runs++;
        throw new TerminalError((input as { code: string }).code, 'no');
      },
    );
    const d1 = randomUUID();
    await expect(main.invoke({ code: 'CARD_DECLINED' }, { deliveryId: d1 })).rejects.toMatchObject({ code: 'CARD_DECLINED' });
    await expect(main.invoke({ code: 'CARD_DECLINED' }, { deliveryId: d1 })).rejects.toMatchObject({ code: 'CARD_DECLINED' });
    expect(runs).toBe(1);
    const d2 = randomUUID();
    await expect(main.invoke({ code: 'OTHER' }, { deliveryId: d2 })).rejects.toMatchObject({ code: 'OTHER' });
    await expect(main.invoke({ code: 'OTHER' }, { deliveryId: d2 })).rejects.toMatchObject({ code: 'OTHER' });
    expect(runs).toBe(3);
  });

  it('an unexposed error is stored without its message', async () => {
    const main = handler({ ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, cacheErrors: () => true })] }, () => {
      throw new Error('secret detail');
    });
    const deliveryId = randomUUID();
    await expect(main.invoke({}, { deliveryId })).rejects.toMatchObject({ code: 'INTERNAL' });
    const replayed = await main.invoke({}, { deliveryId }).catch((e: Error) => e);
    expect(String((replayed as Error).message)).not.toContain('secret detail');
  });
});

describe('batches', () => {
  const sqs = (ids: string[]) => ({
    Records: ids.map((id, i) => ({ messageId: id, receiptHandle: 'r', body: JSON.stringify({ i }), attributes: {}, messageAttributes: {}, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q' })),
  });
  const ctx = () => ({ awsRequestId: randomUUID(), functionName: 'f', getRemainingTimeInMillis: () => 10_000 });

  it('the same message twice in one batch runs once; the twin is retried and then replays', async () => {
    let runs = 0;
    const main = handler({ ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000 })] }, () => ++runs);
    const id = randomUUID();
    const res = (await main.aws(sqs([id, id]), ctx())) as { batchItemFailures: unknown[] };
    expect(runs).toBe(1);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: id }]);
    expect(await main.aws(sqs([id]), ctx())).toEqual({ batchItemFailures: [] });
    expect(runs).toBe(1);
  });

  it('a key that needs the input is claimed per message and still completed with the batch', async () => {
    const store = memoryStore();
    let completeMany = 0;
    const spy: IdempotencyStore = { ...store, completeMany: (r) => (completeMany++, store.completeMany(r)) };
    let runs = 0;
    const main = handler({ ...silent, use: [idempotency({ store: spy, ttlMs: 3_600_000, key: 'input' })] }, () => ++runs);
    await main.aws(sqs([randomUUID(), randomUUID(), randomUUID()]), ctx());
    expect(completeMany).toBe(1);
    // Same bodies under new message ids: the input is the key, so nothing runs again.
    await main.aws(sqs([randomUUID(), randomUUID(), randomUUID()]), ctx());
    expect(runs).toBe(3);
  });

  it('an ordered Kafka batch that stops early gives back the records of the messages it never ran', async () => {
    const effects: string[] = [];
    let failNext = true;
    const main = handler({ ...silent, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000 })] }, (input) => {
      const id = (input as { id: string }).id;
      if (id === 'b' && failNext) {
        failNext = false;
        throw new Error('transient');
      }
      effects.push(id);
      return {};
    });
    const batch = { messages: ['a', 'b', 'c'].map((id, i) => ({ topic: 't', partition: 0, offset: 100 + i, key: null, value: JSON.stringify({ id }) })) };
    const first = (await main.openwhisk(batch)) as { error?: { failed: unknown[] } };
    expect(first.error?.failed).toHaveLength(2);
    expect(effects).toEqual(['a']);
    expect(await main.openwhisk(batch)).toMatchObject({ processed: 3 });
    expect(effects).toEqual(['a', 'b', 'c']);
  });
});
