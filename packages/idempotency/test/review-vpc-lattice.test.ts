/**
 * Review finding (rva, handler): VPC Lattice requests ran as `direct`, so the idempotency
 * plugin saw no HTTP request — no `Idempotency-Key` header, no HTTP fingerprint, and the
 * replayed answer was the internal result shape Lattice cannot read. They are now an HTTP
 * trigger (`source: 'vpc-lattice'`); here the plugin keys a Lattice v2 request by its
 * `Idempotency-Key` header on a real Redis store: the same key and body replays the stored
 * response (marked `Idempotency-Replayed`, in Lattice's answer shape), the same key with another
 * body is `IDEMPOTENCY_KEY_REUSED` (422). Powertools' vpc-lattice/base-v2.json, as the handler's
 * published samples hold it (packages/handler/test/fixtures/samples/aws).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler, httpResult } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { lambdaContext, silentSink, useBackend } from './support.js';

const base = JSON.parse(readFileSync(new URL('../../handler/test/fixtures/samples/aws/pt-vpc-lattice-v2.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** A Lattice v2 POST with header values as lists, as AWS documents the v2 structure. */
const latticeEvent = (key: string, body: unknown) => ({
  ...base,
  method: 'POST',
  headers: { 'content-type': ['application/json'], 'idempotency-key': [key] },
  body: JSON.stringify(body),
});

type LatticeAnswer = { statusCode: number; statusDescription: string; headers: Record<string, string>; body: string; isBase64Encoded: boolean };

describe('idempotency on a VPC Lattice request (redis store)', () => {
  const backend = useBackend('redis');

  it('the Idempotency-Key header keys it: a retry replays, another body with the key is 422', async () => {
    let runs = 0;
    const main = handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, (input: any) => {
      runs++;
      return httpResult({ status: 201, headers: { location: `/orders/${runs}` }, body: { qty: input.qty, run: runs } });
    });
    const key = randomUUID();
    const first = (await main.aws(latticeEvent(key, { qty: 3 }), lambdaContext())) as LatticeAnswer;
    const retry = (await main.aws(latticeEvent(key, { qty: 3 }), lambdaContext())) as LatticeAnswer;
    const reused = (await main.aws(latticeEvent(key, { qty: 4 }), lambdaContext())) as LatticeAnswer;
    expect(runs).toBe(1);
    expect(first).toMatchObject({ statusCode: 201, statusDescription: '201 Created', headers: { location: '/orders/1' } });
    expect(first.headers['Idempotency-Replayed']).toBeUndefined();
    expect(retry).toMatchObject({ statusCode: 201, statusDescription: '201 Created', headers: { location: '/orders/1', 'Idempotency-Replayed': 'true' } });
    expect(JSON.parse(retry.body)).toEqual({ qty: 3, run: 1 });
    expect(reused).toMatchObject({ statusCode: 422, headers: { 'content-type': 'application/problem+json' } });
    expect(JSON.parse(reused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });
});
