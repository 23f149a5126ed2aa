/**
 * A value under a record's key that `@steadyfn/lease` did not write (another program shares the
 * prefix or collection; a value edited by hand): `SET <prefix><key> hello` or a hash on Redis
 * and Redis Cluster, a document of another shape in the MongoDB collection. The store refuses
 * it for good (`LEASE_RECORD_UNREADABLE`); the plugin answers the terminal
 * `IDEMPOTENCY_RECORD_CORRUPT` naming the store key in its log line — never the retryable
 * `IDEMPOTENCY_STORE_UNAVAILABLE` "could not be reached" (a queue redelivering it until its DLQ)
 * — and the function never runs without its claim. In a batch only that message fails: the
 * others are claimed alone and run once (before, the whole batch failed on every delivery).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, sqsRecord, useBackend, type Backend } from './support.js';

type LambdaHttp = { statusCode: number; body: string };

/** Writes a value `@steadyfn/lease` did not write under the record's store key. */
async function foreign(backend: Backend, key: string, shape: 'text' | 'hash'): Promise<void> {
  if (backend.redis) {
    if (shape === 'hash') await backend.redis.hset(backend.prefix + key, 'owner', 'someone-else');
    else await backend.redis.set(backend.prefix + key, 'hello');
    return;
  }
  await backend.collection!.insertOne(shape === 'hash' ? { _id: `${key}#1` as never, k: key, g: 1, s: 'x' } : { _id: `${key}#1` as never, k: key, hello: 'world' });
}

async function stillThere(backend: Backend, key: string): Promise<unknown> {
  if (backend.redis) return backend.redis.type(backend.prefix + key);
  return (await backend.collection!.countDocuments({ k: key })) > 0;
}

describe.each(BACKENDS)('a foreign value under a record key on %s', (name) => {
  const backend = useBackend(name);

  const make = (fname: string, lines: string[], fn: (input: unknown) => unknown) =>
    handler({ name: fname, logSink: (l) => lines.push(l), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, fn);
  const failures = (lines: string[], code: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'invocation failed' && l.code === code);

  it.each(['text', 'hash'] as const)('HTTP (%s): a terminal 500 IDEMPOTENCY_RECORD_CORRUPT on every retry, naming the store key, never the value; the function does not run; the value is left alone', async (shape) => {
    const fname = `foreign-${randomUUID()}`;
    const key = randomUUID();
    const record = storeKey(scopeOf(fname), { kind: 'header', value: key });
    await foreign(backend, record, shape);
    const lines: string[] = [];
    let runs = 0;
    const main = make(fname, lines, () => ({ run: ++runs }));
    for (let i = 0; i < 2; i++) {
      const res = (await main.aws(httpEvent({ key, body: { amount: 1 } }), lambdaContext())) as LambdaHttp;
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_RECORD_CORRUPT' });
    }
    expect(runs).toBe(0);
    const logged = failures(lines, 'IDEMPOTENCY_RECORD_CORRUPT');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ retryable: false, storeKey: record, causeCode: 'LEASE_RECORD_UNREADABLE' });
    expect(lines.join('\n')).not.toMatch(/hello|world|someone-else/);
    expect(await stillThere(backend, record)).toBe(backend.redis ? (shape === 'hash' ? 'hash' : 'string') : true);
  });

  it('SQS batch: only the message under the foreign value fails (terminal); the others run once and replay on redelivery', async () => {
    const fname = `foreign-batch-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const record = storeKey(scopeOf(fname), { kind: 'delivery', value: ids[1]! });
    await foreign(backend, record, 'text');
    const lines: string[] = [];
    const ran: string[] = [];
    const main = make(fname, lines, (input) => {
      ran.push((input as { id: string }).id);
      return { ok: true };
    });
    const event = { Records: ids.map((id) => sqsRecord(id, { id })) };
    for (let i = 0; i < 2; i++) {
      const res = (await main.aws(event, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: ids[1] }]);
    }
    expect(ran.sort()).toEqual([ids[0], ids[2]].sort());
    const logged = failures(lines, 'IDEMPOTENCY_RECORD_CORRUPT');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ retryable: false, storeKey: record, deliveryId: ids[1] });
  });

  it("SQS batch under terminalErrors 'ack': the message under the foreign value is still reported failed (the store's fault, not the message's), not deleted", async () => {
    const fname = `foreign-ack-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID()];
    await foreign(backend, storeKey(scopeOf(fname), { kind: 'delivery', value: ids[1]! }), 'text');
    const ran: string[] = [];
    const main = handler({ name: fname, terminalErrors: 'ack', logSink: () => undefined, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, (input) => {
      ran.push((input as { id: string }).id);
      return { ok: true };
    });
    const res = (await main.aws({ Records: ids.map((id) => sqsRecord(id, { id })) }, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: ids[1] }]);
    expect(ran).toEqual([ids[0]]);
  });
});
