/**
 * Review: the inbox passed no `signal` to its store calls (the idempotency plugin passes
 * `ctx.signal`), so a store call that hung — a frozen Redis that accepts and never answers —
 * kept running after the handler answered `DEADLINE_EXCEEDED` at the deadline, and its claim
 * landed once the server answered again: the event's key held by an invocation that had
 * already failed, every redelivery `INBOX_EVENT_IN_PROGRESS` until the lease ran out. Now the
 * claims and reads of `before` take the invocation's signal: the call is abandoned at the
 * deadline (its promise settles while the server is still frozen), and the lease store gives
 * back what the claim wrote, so after the server is back the key is free and the redelivery
 * runs the function once. The server is this file's own (frozen here), never the shared one.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { redisStore, scopeOf, storeKey, type IdempotencyStore } from '@steadyfn/idempotency';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';
import { sqsRecord } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const DEADLINE_MS = 2_000;

let server: OwnServer & { url: string };
let client: Redis;

beforeAll(async () => {
  server = await startRedis();
  // ioredis' defaults (no command timeout): a command to a frozen server waits for ever.
  client = new Redis(server.url);
  client.on('error', () => undefined);
  await client.ping();
});

afterAll(async () => {
  server?.thaw();
  client?.disconnect();
  await server?.dispose();
});

describe('review: the inbox abandons a hung store call at the deadline (own Redis, frozen)', () => {
  it('the claim gets the invocation signal and settles at the deadline while the server is frozen; no claim is left once it answers again; the redelivery runs once', async () => {
    const base = redisStore({ client, prefix: `signal-${randomUUID().slice(0, 8)}:` });
    const claims: Array<{ signal: AbortSignal | undefined; settled: boolean }> = [];
    const store = Object.create(base) as IdempotencyStore;
    store.claim = (request, options) => {
      const call = { signal: options?.signal, settled: false };
      claims.push(call);
      const pending = base.claim(request, options);
      pending.then(
        () => (call.settled = true),
        () => (call.settled = true),
      );
      return pending;
    };
    const consumer = `shipping-${randomUUID()}`;
    let runs = 0;
    const ship = handler({ name: 'ship', logSink: () => undefined, use: [inbox({ store, consumer })] }, () => {
      runs++;
    });
    const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const message = { Records: [sqsRecord(serializeEvent(event, 1))] };
    const context = () => {
      const deadline = Date.now() + DEADLINE_MS;
      return { awsRequestId: randomUUID(), functionName: 'ship', getRemainingTimeInMillis: () => deadline - Date.now() };
    };

    server.freeze();
    const answer = (await ship.aws(message, context())) as { batchItemFailures: unknown[] };
    expect(answer.batchItemFailures).toHaveLength(1);
    expect(claims).toHaveLength(1);
    expect(claims[0]!.signal?.aborted).toBe(true);
    // Still frozen: only the abort can settle the call (without it, it waits for the server).
    await eventually(() => claims[0]!.settled, 10_000);
    expect(runs).toBe(0);

    server.thaw();
    // One connection runs its commands in order: once this answers, the frozen claim and the
    // store's give-back after it have both run.
    await client.ping();
    expect(await base.get(storeKey(scopeOf(`inbox:${consumer}`), { kind: 'custom', value: `event:${event.id}` }))).toBeUndefined();
    expect(await ship.aws(message, context())).toEqual({ batchItemFailures: [] });
    expect(runs).toBe(1);
  });
});
