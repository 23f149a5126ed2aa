/**
 * A value that `@steadyfn/lease` did not write, put under the record's key between the claim and
 * the completion (another program sharing the prefix): the store refuses the completion (not its
 * record), and reading it back refuses it for good (`LEASE_RECORD_UNREADABLE`). The effects
 * happened, so the invocation still answers; the error line says why the record was not
 * completed — the cause's class and code — never the value. Before, the refused completion was
 * said as `IDEMPOTENCY_LEASE_LOST` ("taken over or expired"), with no cause at all. On the real
 * Redis server, alone and in an SQS batch (one `completeMany`).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { httpEvent, lambdaContext, sqsRecord, useBackend } from './support.js';

type Line = Record<string, unknown>;
const refused = (lines: string[]): Line[] => lines.map((l) => JSON.parse(l) as Line).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('idempotency record could not be completed'));

describe('a completion refused for a foreign value on redis', () => {
  const backend = useBackend('redis');
  const foreign = (key: string) => backend.redis!.set(backend.prefix + key, 'hello-foreign-value');

  it('HTTP: the answer stands; the error line carries causeCode LEASE_RECORD_UNREADABLE, not the value', async () => {
    const fname = `settle-foreign-${randomUUID()}`;
    const key = randomUUID();
    const lines: string[] = [];
    const main = handler({ name: fname, logLevel: 'warn', logSink: (l) => lines.push(l), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, async () => {
      await foreign(storeKey(scopeOf(fname), { kind: 'header', value: key }));
      return { ok: true };
    });
    const res = (await main.aws(httpEvent({ key, body: { amount: 1 } }), lambdaContext())) as { statusCode: number };
    expect(res.statusCode).toBe(200);
    const logged = refused(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', msg: 'idempotency record could not be completed; the store refused it, not retried', code: 'IDEMPOTENCY_STORE_UNAVAILABLE', cause: 'LeaseRecordUnreadableError', causeCode: 'LEASE_RECORD_UNREADABLE' });
    expect(lines.join('\n')).not.toContain('hello-foreign-value');
    // Not "taken over or expired": nobody else holds it.
    expect(lines.join('\n')).not.toContain('IDEMPOTENCY_LEASE_LOST');
  });

  it('SQS batch: the one completeMany refused; the line carries the cause code', async () => {
    const fname = `settle-foreign-batch-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID()];
    const lines: string[] = [];
    const main = handler({ name: fname, logLevel: 'warn', logSink: (l) => lines.push(l), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, async (input) => {
      const { id } = input as { id: string };
      if (id === ids[1]) await foreign(storeKey(scopeOf(fname), { kind: 'delivery', value: id }));
      return { ok: true };
    });
    const res = (await main.aws({ Records: ids.map((id) => sqsRecord(id, { id })) }, lambdaContext())) as { batchItemFailures: unknown[] };
    expect(res.batchItemFailures).toEqual([]);
    const logged = refused(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', cause: 'LeaseRecordUnreadableError', causeCode: 'LEASE_RECORD_UNREADABLE' });
    expect(lines.join('\n')).not.toContain('hello-foreign-value');
    // Not "taken over or expired": nobody else holds it.
    expect(lines.join('\n')).not.toContain('IDEMPOTENCY_LEASE_LOST');
  });
});
