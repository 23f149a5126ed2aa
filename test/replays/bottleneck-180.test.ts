/**
 * SGrondin/bottleneck#180 ("redis clustered (elasticache) - crossslot issue")
 * https://github.com/SGrondin/bottleneck/issues/180
 *
 * A Redis-backed library whose scripts touched several keys worked on a single server and, once
 * moved to ElastiCache with cluster mode on, failed every call with `CROSSSLOT Keys in request
 * don't hash to the same slot`: its keys had no hash tag, so one script's keys fell in several
 * slots. The reporter gave up on cluster mode.
 *
 * steadyfn claims and completes a whole SQS batch in one round trip — one script per slot on a
 * cluster — with records spread over the cluster (default `hashTag: false`). Replayed on the
 * 3-master Redis Cluster: a batch of ten messages (their keys fall in several slots) runs each
 * message once and answers no failures; the redelivered batch, on a second instance with no
 * local cache, replays every message without running any. The same with `hashTag: 'scope'`
 * (one slot for the function).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '../../packages/handler/src/index.js';
import { idempotency, redisStore } from '../../packages/idempotency/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openBackend, silentSink, type Backend } from '../../packages/idempotency/test/support.js';
import { lambdaContext, sqsRecord } from './support.js';

describe('bottleneck#180: a batch claimed on Redis Cluster whose keys span slots', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('cluster');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it.each([false, 'scope'] as const)('hashTag %s: ten messages run once each, the redelivered batch replays them all', async (hashTag) => {
    const store = redisStore({ client: backend.redis!, prefix: backend.prefix, hashTag });
    const name = `crossslot-${randomUUID()}`;
    const ran: string[] = [];
    const make = () =>
      handler({ name, logSink: silentSink(), body: 'json', input: z.object({ n: z.number() }), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, (input, ctx) => {
        ran.push(ctx.deliveryId!);
        return { n: input.n };
      });
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const batch = ids.map((id, n) => sqsRecord(JSON.stringify({ n }), { id }));

    expect(await make().aws({ Records: batch }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect([...ran].sort()).toEqual([...ids].sort());
    expect(await make().aws({ Records: batch }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran).toHaveLength(10);
  });
});
