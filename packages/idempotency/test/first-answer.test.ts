/**
 * One idempotency key, one answer: `main.invoke()` (and any non-HTTP trigger) returns on its
 * first run the value as the record keeps it — round-tripped through the record's JSON — so a
 * caller gets the same result from the first call and from every replay. The HTTP analogue is
 * packages/handler/src/same-result.test.ts (one result whichever route delivered it): there
 * the first response is rendered once and stored as rendered, so it already matches.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext, trigger } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, memoryStore, type IdempotencyStore } from '../src/index.js';
import { openBackend, silentSink, type Backend } from './support.js';

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  toJSON(): unknown {
    return { amount: this.cents.toString(), currency: this.currency };
  }
}

/** What a function might return: JS values JSON has no form for, or another form. */
const result = (n: number) => ({
  n,
  at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  note: undefined,
  tags: new Map([['a', 1]]),
  seen: new Set(['x']),
  price: new Money(12345678901234567891n, 'EUR'),
  list: [1, undefined, () => 0],
  nested: { when: new Date(0), skip: undefined },
});

/** The same value as the record's JSON gives it back. */
const STORED = {
  n: 1,
  at: '2026-01-02T03:04:05.000Z',
  tags: {},
  seen: {},
  price: { amount: '12345678901234567891', currency: 'EUR' },
  list: [1, null, null],
  nested: { when: '1970-01-01T00:00:00.000Z' },
};

const stores: Array<[string, () => Promise<{ store: IdempotencyStore; close(): Promise<void> }>]> = [
  ['redis', async () => openBackend('redis')],
  ['memory', async () => ({ store: memoryStore(), close: async () => undefined })],
];

describe.each(stores)('the first answer is the replayed answer, on %s', (_name, open) => {
  let backend: Pick<Backend, 'store' | 'close'>;
  beforeAll(async () => {
    backend = await open();
  });
  afterAll(async () => {
    await backend?.close();
  });

  const make = (fn: (input: unknown) => unknown, key: 'auto' | 'input' = 'auto') =>
    handler({ name: `first-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, key, ttlMs: 3_600_000, localCache: false })] }, fn);

  it('main.invoke(): a Date, undefined members, a Map, a Set and a toJSON class come back the same way the first time and on the replay', async () => {
    let runs = 0;
    const main = make(() => result(++runs));
    const first = await main.invoke({ orderId: 'o-1' });
    const replay = await main.invoke({ orderId: 'o-1' });
    expect(runs).toBe(1);
    expect(first).toStrictEqual(STORED);
    expect(replay).toStrictEqual(first);
  });

  it('the same with a delivery id as the key (a Lambda direct invoke, a queue message)', async () => {
    let runs = 0;
    const main = make(() => ({ at: new Date(0), run: ++runs, gone: undefined }));
    const deliveryId = randomUUID();
    const first = await main.invoke({ x: 1 }, { deliveryId });
    const replay = await main.invoke({ x: 1 }, { deliveryId });
    expect(first).toStrictEqual({ at: '1970-01-01T00:00:00.000Z', run: 1 });
    expect(replay).toStrictEqual(first);
  });

  it('plain JSON results and undefined are unchanged', async () => {
    const main = make((input) => (input as { echo?: unknown }).echo);
    const value = { a: [1, 'two', { three: true }], b: null };
    expect(await main.invoke({ echo: value })).toStrictEqual(value);
    expect(await main.invoke({ echo: value })).toStrictEqual(value);
    expect(await main.invoke({ echo: undefined })).toBeUndefined();
    expect(await main.invoke({ echo: undefined })).toBeUndefined();
  });

  it('a result JSON cannot hold (a BigInt) is not stored: it is answered as it is, and the next call runs again', async () => {
    let runs = 0;
    const main = make(() => ({ big: 2n ** 64n, run: ++runs }));
    expect(await main.invoke({ orderId: 'o-2' })).toStrictEqual({ big: 2n ** 64n, run: 1 });
    expect(await main.invoke({ orderId: 'o-2' })).toStrictEqual({ big: 2n ** 64n, run: 2 });
  });

  it('bytes stay bytes, the first time and on the replay: an Azure function returning a Buffer to its output binding (the worker sends a Buffer or typed array as bytes, not as JSON)', async () => {
    let runs = 0;
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const main = make(() => (++runs === 1 ? bytes : Buffer.from('second run')));
    // A storage queue trigger whose return value is a blob output binding (`return: output.storageBlob(…)`).
    const context = (): InvocationContext =>
      new InvocationContext({
        invocationId: randomUUID(),
        functionName: 'thumbnails',
        options: { trigger: { ...trigger.storageQueue({ queueName: 'images', connection: 'AzureWebJobsStorage' }), name: 'item', direction: 'in' } as never },
        triggerMetadata: { id: 'msg-bytes-1', dequeueCount: 1, popReceipt: `pr-${randomUUID()}`, insertionTime: '2026-01-01T00:00:00+00:00' },
        logHandler: () => undefined,
      });
    const first = await main.azure({ image: 'a.png' }, context());
    const replay = await main.azure({ image: 'a.png' }, context());
    expect(runs).toBe(1);
    expect(Buffer.isBuffer(first)).toBe(true);
    expect(first).toStrictEqual(bytes);
    expect(replay).toStrictEqual(bytes);
    // A typed array other than a Buffer is bytes too (the worker sends any ArrayBuffer view as bytes).
    const view = make(() => new Uint8Array([1, 2, 3]));
    expect(await view.invoke({ image: 'b.png' })).toStrictEqual(Buffer.from([1, 2, 3]));
    expect(await view.invoke({ image: 'b.png' })).toStrictEqual(Buffer.from([1, 2, 3]));
  });

  it('with the local cache on, a warm replay is the same answer too', async () => {
    let runs = 0;
    const main = handler({ name: `first-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000 })] }, () => result(++runs));
    const first = await main.invoke({ orderId: 'o-3' });
    const warm = await main.invoke({ orderId: 'o-3' });
    expect(runs).toBe(1);
    expect(warm).toStrictEqual(first);
    expect(first).toStrictEqual(STORED);
  });
});
