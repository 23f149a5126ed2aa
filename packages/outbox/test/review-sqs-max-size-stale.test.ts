/**
 * Known defect (closing notes 29–31): `sqsSender({ maxMessageBytes: 'auto' })` read the queue's
 * `MaximumMessageSize` once and kept it for the life of the warm instance. Lowered while the
 * instance was warm (SetQueueAttributes, or the queue recreated smaller), batches were packed
 * against the stale, larger limit: SQS refused the messages between the two limits as the
 * sender's fault (`InvalidParameterValue`, "Message must be shorter than … bytes"), so the relay
 * quarantined their aggregates — even with a claim check configured, which would have carried
 * them through S3 under the fresh limit. Raised, the sender refused itself
 * (`OUTBOX_SQS_MESSAGE_TOO_LARGE`) messages the queue now takes.
 *
 * Now a size refusal that a stale limit could explain makes the sender re-read the attributes,
 * once per `send()`, and send again only what was refused (and what waited behind it in its
 * group) against the fresh limit; only a message still too large under it is a sender fault.
 * The normal path asks `GetQueueAttributes` no more than before. Review of that fix: a send
 * aborted after the first pass, a limit change still propagating (SQS refuses a message within
 * the limit GetQueueAttributes answers) and a failed re-read each left refused events judged
 * sender faults or dropped the cached limit; now they stay pending and the limit is kept. Its
 * review: a re-read in flight was the cache, so concurrent sends and the relay's readability
 * check waited on it and threw when it failed; an aborted send acquitted a fixed limit's refusals.
 *
 * Both servers enforce a limit lowered with SetQueueAttributes on the next send, each its own
 * way (checked here on every run): moto refuses the whole `SendMessageBatch` call
 * (`InvalidParameterValue`) where SQS and fauxqs refuse the oversized entry alone (its `Failed`
 * list, `SenderFault`, `InvalidParameterValue`); moto counts body characters, without
 * attributes (ASCII bodies here, so characters are bytes). Both also let a deleted queue's name
 * be reused at once (SQS makes you wait 60 s), which the recreated case uses.
 */
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsSender, type SqsSender } from '../src/sqs.js';
import { createBucket, createQueue, deleteQueue, receiveAll, s3Client, sqsClient, sqsServers } from './sqs-servers.js';
import { openRedis, pendingIn, redisWriter, type RedisBackend } from './support.js';
import { s3ClaimCheck } from '../src/s3.js';

const s3 = s3Client();
let bucket = '';
let redis: RedisBackend;
beforeAll(async () => {
  [bucket, redis] = await Promise.all([createBucket(s3, 'obx-stale-max'), openRedis('redis')]);
});
afterAll(async () => {
  await redis?.close();
  s3.destroy();
});

const body = (bytes: number, tag: string): string => `${tag}:${'x'.repeat(bytes - tag.length - 1)}`;

describe.each(sqsServers())('a queue whose MaximumMessageSize changed under a warm sender ($name)', ({ name, endpoint }) => {
  let sqs: SQSClient;
  let asked = 0;
  const queues: string[] = [];
  beforeAll(() => {
    sqs = sqsClient(endpoint, 3);
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand') asked++;
        return next(args);
      },
      { step: 'initialize' },
    );
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => deleteQueue(sqs, q)));
    sqs.destroy();
  });

  const queue = async (maxBytes: number, fifo = false): Promise<string> => {
    const url = await createQueue(sqs, `obx-stale-${name}`, { maxBytes, fifo });
    queues.push(url);
    return url;
  };
  const setMax = async (queueUrl: string, maxBytes: number): Promise<void> => {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { MaximumMessageSize: String(maxBytes) } }));
    // The server took it (read back): what follows is about the sender's cache, not the server.
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }));
    expect(read.Attributes?.MaximumMessageSize).toBe(String(maxBytes));
    asked--;
  };
  /** A first send on the warm sender: reads and caches the queue's limit. */
  const warm = async (sender: SqsSender, groupKey?: string): Promise<void> => {
    expect((await sender.send([{ id: 'warm', body: 'warm', ...(groupKey === undefined ? {} : { groupKey }) }])).sent).toHaveLength(1);
  };

  it('the server enforces a lowered limit (what the sender then meets); a fixed maxMessageBytes is never re-read', async () => {
    const url = await queue(4_096);
    const sender = sqsSender({ client: sqs, queueUrl: url, maxMessageBytes: 4_096, retry: { retries: 0 } });
    await setMax(url, 1_024);
    const report = await sender.send([{ id: 'big', body: body(3_000, 'big') }]);
    expect(report.failed).toMatchObject([{ id: 'big', code: 'InvalidParameterValue', senderFault: true, judged: true }]);
  });

  it('lowered: a claim-checked sender re-reads the limit once and sends the refused message through S3, in its group order (FIFO)', async () => {
    const url = await queue(4_096, true);
    const sender = sqsSender({ client: sqs, queueUrl: url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}/` }), retry: { retries: 0 } });
    asked = 0;
    await warm(sender, 'w');
    await setMax(url, 1_024);
    const report = await sender.send([
      { id: 'a1', groupKey: 'a', body: body(3_000, 'a1') },
      { id: 'a2', groupKey: 'a', body: body(100, 'a2') },
      { id: 'b1', groupKey: 'b', body: body(200, 'b1') },
    ]);
    expect(report.failed).toEqual([]);
    expect(report.sent.map((s) => s.id).sort()).toEqual(['a1', 'a2', 'b1']);
    expect(report.sent.find((s) => s.id === 'a1')?.claimCheck).toMatchObject({ bucket, key: `${name}/a1`, size: 3_000 });
    expect(asked, 'GetQueueAttributes: the first send, then once after the refusal').toBe(2);
    const got = await receiveAll(sqs, url, 4);
    const groupA = got.filter((m) => m.Attributes?.MessageGroupId === 'a').map((m) => (m.MessageAttributes?.['steadyfn.claimCheck'] ? 'a1 (pointer)' : m.Body!.split(':')[0]));
    expect(groupA).toEqual(['a1 (pointer)', 'a2']);
    expect(got).toHaveLength(4);

    // The fresh limit is kept: the next send claim-checks up front, with no further read.
    const next = await sender.send([{ id: 'c1', groupKey: 'c', body: body(2_000, 'c1') }]);
    expect(next.sent).toMatchObject([{ id: 'c1', claimCheck: { key: `${name}/c1` } }]);
    expect(next.splits).toBe(0);
    expect(asked).toBe(2);
  });

  it('lowered, no claim check: a message still too large under the fresh limit is the sender fault it is, once re-read', async () => {
    const url = await queue(4_096);
    const sender = sqsSender({ client: sqs, queueUrl: url, retry: { retries: 0 } });
    asked = 0;
    await warm(sender);
    await setMax(url, 1_024);
    const report = await sender.send([
      { id: 'a1', groupKey: 'a', body: body(3_000, 'a1') },
      { id: 'a2', groupKey: 'a', body: body(100, 'a2') },
      { id: 'b1', groupKey: 'b', body: body(900, 'b1') },
    ]);
    const tooLarge = expect.objectContaining({ id: 'a1', code: 'OUTBOX_SQS_MESSAGE_TOO_LARGE', senderFault: true, judged: true, message: expect.stringContaining('the queue takes 1024') });
    // a2 waits behind a1 on both servers: moto refuses the whole call (bisected, a1 is refused
    // alone); fauxqs, like SQS, judges each entry, and a2 is in a later call than a1 (one message
    // of a group per call, the default on a standard queue too), so it never rides beside it.
    expect(report.sent.map((s) => s.id)).toEqual(['b1']);
    expect(report.failed).toEqual([tooLarge, expect.objectContaining({ id: 'a2', code: 'OUTBOX_SQS_GROUP_BLOCKED', senderFault: false, retryable: true })]);
    expect(asked).toBe(2);
    // Bounded: the next oversized message is refused up front against the fresh limit, no read.
    expect((await sender.send([{ id: 'd1', body: body(2_000, 'd1') }])).failed).toMatchObject([{ id: 'd1', code: 'OUTBOX_SQS_MESSAGE_TOO_LARGE' }]);
    expect(asked).toBe(3);
  });

  it('lowered under concurrent sends (the parallel rounds of a sweep): one re-read between them', async () => {
    const url = await queue(4_096);
    const sender = sqsSender({ client: sqs, queueUrl: url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}-par/` }), retry: { retries: 0 } });
    asked = 0;
    await warm(sender);
    await setMax(url, 1_024);
    const reports = await Promise.all(['p', 'q', 'r'].map((k) => sender.send([{ id: `${k}1`, groupKey: k, body: body(3_000, `${k}1`) }])));
    expect(reports.flatMap((r) => r.failed)).toEqual([]);
    expect(reports.flatMap((r) => r.sent.map((s) => s.claimCheck?.key))).toEqual([`${name}-par/p1`, `${name}-par/q1`, `${name}-par/r1`]);
    expect(asked, 'the first send, then one re-read shared by the three').toBe(2);
  });

  it('raised: a message the cached limit refused is sent once the limit is re-read', async () => {
    const url = await queue(1_024);
    const sender = sqsSender({ client: sqs, queueUrl: url, retry: { retries: 0 } });
    asked = 0;
    await warm(sender);
    await setMax(url, 4_096);
    const report = await sender.send([{ id: 'r1', groupKey: 'r', body: body(3_000, 'r1') }, { id: 'r2', groupKey: 'r', body: body(100, 'r2') }]);
    expect(report.failed).toEqual([]);
    expect(report.sent.map((s) => s.id)).toEqual(['r1', 'r2']);
    expect(asked).toBe(2);
    expect((await receiveAll(sqs, url, 3)).map((m) => m.Body!.split(':')[0]).sort()).toEqual(['r1', 'r2', 'warm']);
  });

  it('recreated: the queue deleted and created again under its name with a smaller limit', async () => {
    const url = await queue(4_096);
    const sender = sqsSender({ client: sqs, queueUrl: url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}-re/` }), retry: { retries: 0 } });
    asked = 0;
    await warm(sender);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    // Same name, same URL (SQS itself makes you wait 60 s before reusing a name; both servers do not).
    const again = await sqs.send(new CreateQueueCommand({ QueueName: url.slice(url.lastIndexOf('/') + 1), Attributes: { MaximumMessageSize: '1024' } }));
    expect(again.QueueUrl).toBe(url);
    const report = await sender.send([{ id: 'a1', body: body(3_000, 'a1') }]);
    expect(report.failed).toEqual([]);
    expect(report.sent).toMatchObject([{ id: 'a1', claimCheck: { key: `${name}-re/a1` } }]);
    expect(asked).toBe(2);
  });

  it('lowered, and the attributes cannot be read again: the refused message stays pending (no sender fault), not quarantined', async () => {
    const url = await queue(4_096);
    let reads = 0;
    const denying = sqsClient(endpoint, 1);
    denying.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand' && ++reads > 1) throw Object.assign(new Error('denied'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const sender = sqsSender({ client: denying, queueUrl: url, retry: { retries: 0 } });
      await warm(sender);
      await setMax(url, 1_024);
      const report = await sender.send([{ id: 'a1', groupKey: 'a', body: body(3_000, 'a1') }]);
      expect(report.failed).toMatchObject([{ id: 'a1', code: 'InvalidParameterValue', senderFault: false, retryable: false, judged: false, message: expect.stringContaining('(AccessDenied)') }]);
      expect(reads).toBe(2);
      // The limit cached before the failed re-read is kept: later sends (and the relay's
      // readability check) go on with it instead of throwing while GetQueueAttributes fails.
      expect(await sender.maxMessageBytes()).toBe(4_096);
      expect((await sender.send([{ id: 's1', body: body(500, 's1') }])).sent).toMatchObject([{ id: 's1' }]);
      expect(reads).toBe(2);
    } finally {
      denying.destroy();
    }
  });

  it('a re-read in flight and then failing: a concurrent send and the relay\'s readability check go on with the cached limit', async () => {
    const url = await queue(4_096);
    let reads = 0;
    let reached!: () => void;
    const rereadStarted = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = sqsClient(endpoint, 1);
    held.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand' && ++reads > 1) {
          // The re-read hangs until the concurrent callers below have asked, then fails.
          reached();
          await released;
          throw Object.assign(new Error('denied'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const sender = sqsSender({ client: held, queueUrl: url, retry: { retries: 0 } });
      await warm(sender);
      await setMax(url, 1_024);
      const refused = sender.send([{ id: 'a1', body: body(3_000, 'a1') }]);
      await rereadStarted;
      // Asked while the re-read is in flight: neither may wait on it, nor fail with it.
      const limit = sender.maxMessageBytes().then((v) => v, (error: unknown) => error);
      const other = sender.send([{ id: 's1', body: body(500, 's1') }]).then((r) => r, (error: unknown) => error);
      release();
      expect(await limit).toBe(4_096);
      expect(await other).toMatchObject({ sent: [{ id: 's1' }], failed: [] });
      expect((await refused).failed).toMatchObject([{ id: 'a1', senderFault: false, judged: false }]);
      expect(reads).toBe(2);
    } finally {
      held.destroy();
    }
  });

  it('a fixed maxMessageBytes and the send aborted once SQS refused the message: still the sender fault it is (never re-read, nothing to wait for)', async () => {
    const url = await queue(4_096);
    const controller = new AbortController();
    const aborting = sqsClient(endpoint, 1);
    aborting.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'SendMessageBatchCommand') controller.abort();
        return out;
      },
      { step: 'initialize' },
    );
    try {
      const sender = sqsSender({ client: aborting, queueUrl: url, maxMessageBytes: 4_096, retry: { retries: 0 } });
      await setMax(url, 1_024);
      // As above: fauxqs refuses a1 and takes b1 in one call; moto refuses the call, then (bisected) a1 alone, then takes b1.
      const report = await sender.send([{ id: 'a1', groupKey: 'a', body: body(3_000, 'a1') }, { id: 'b1', groupKey: 'b', body: body(200, 'b1') }], { signal: controller.signal });
      expect(controller.signal.aborted).toBe(true);
      expect(report.sent.map((s) => s.id)).toEqual(['b1']);
      expect(report.failed).toMatchObject([{ id: 'a1', code: 'InvalidParameterValue', senderFault: true, judged: true }]);
    } finally {
      aborting.destroy();
    }
  });

  it('lowered, and the send aborted once SQS had refused the message: it stays pending (no sender fault), not quarantined', async () => {
    const url = await queue(4_096);
    const controller = new AbortController();
    let armed = false;
    const aborting = sqsClient(endpoint, 1);
    aborting.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        // The deadline comes right after SQS answered a call: after the first pass, before any re-read.
        if (armed && context.commandName === 'SendMessageBatchCommand') controller.abort();
        return out;
      },
      { step: 'initialize' },
    );
    try {
      const sender = sqsSender({ client: aborting, queueUrl: url, retry: { retries: 0 } });
      await warm(sender);
      await setMax(url, 1_024);
      armed = true;
      // fauxqs refuses a1 and takes b1 in one call; moto refuses the call, then (bisected) a1 alone, then takes b1.
      const report = await sender.send([{ id: 'a1', groupKey: 'a', body: body(3_000, 'a1') }, { id: 'b1', groupKey: 'b', body: body(200, 'b1') }], { signal: controller.signal });
      expect(controller.signal.aborted).toBe(true);
      expect(report.sent.map((s) => s.id)).toEqual(['b1']);
      expect(report.failed).toMatchObject([{ id: 'a1', code: 'InvalidParameterValue', senderFault: false, retryable: true, judged: false }]);
    } finally {
      aborting.destroy();
    }
  });

  /**
   * SQS documents that a SetQueueAttributes change can take up to 60 s to propagate: for that
   * long SendMessage may enforce the new limit while GetQueueAttributes still answers the old
   * one (or the other way round). Neither server lags, so the client rewrites the limit
   * GetQueueAttributes answers while `lagging` is set, as a replica not yet updated would.
   */
  const laggingClient = (): { client: SQSClient; reads: () => number; lag: (maxBytes: number | undefined) => void } => {
    let reported: number | undefined;
    let reads = 0;
    const client = sqsClient(endpoint, 3);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName !== 'GetQueueAttributesCommand') return out;
        reads++;
        const attributes = (out.output as { Attributes?: Record<string, string> }).Attributes;
        if (reported !== undefined && attributes?.MaximumMessageSize !== undefined) attributes.MaximumMessageSize = String(reported);
        return out;
      },
      { step: 'initialize' },
    );
    return { client, reads: () => reads, lag: (maxBytes) => (reported = maxBytes) };
  };

  it('lowered, not yet propagated to GetQueueAttributes: SQS refused a message within the limit it reads, so it is retried later, no sender fault', async () => {
    const url = await queue(4_096);
    const lagging = laggingClient();
    try {
      const sender = sqsSender({ client: lagging.client, queueUrl: url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}-lag/` }), retry: { retries: 0 } });
      await warm(sender);
      lagging.lag(4_096);
      await setMax(url, 1_024);
      const report = await sender.send([{ id: 'a1', groupKey: 'a', body: body(3_000, 'a1') }, { id: 'b1', groupKey: 'b', body: body(200, 'b1') }]);
      expect(report.sent.map((s) => s.id)).toEqual(['b1']);
      expect(report.failed).toMatchObject([{ id: 'a1', code: 'InvalidParameterValue', senderFault: false, retryable: true, judged: true, message: expect.stringContaining('propagat') }]);
      expect(lagging.reads(), 'the first send, then one re-read').toBe(2);
      // Propagated: the next send meets the refusal again, reads the new limit and claim-checks a1.
      lagging.lag(undefined);
      const next = await sender.send([{ id: 'a1', groupKey: 'a', body: body(3_000, 'a1') }]);
      expect(next.failed).toEqual([]);
      expect(next.sent).toMatchObject([{ id: 'a1', claimCheck: { key: `${name}-lag/a1` } }]);
      expect(lagging.reads()).toBe(3);
    } finally {
      lagging.client.destroy();
    }
  });

  it('raised, GetQueueAttributes ahead of SendMessage: SQS refuses the message sent again under the fresh limit; retried later, no sender fault', async () => {
    const url = await queue(1_024);
    const lagging = laggingClient();
    try {
      const sender = sqsSender({ client: lagging.client, queueUrl: url, retry: { retries: 0 } });
      await warm(sender);
      lagging.lag(4_096);
      // The sender refuses r1 against its cached 1 024, reads 4 096, sends r1 again: SQS refuses it.
      const report = await sender.send([{ id: 'r1', groupKey: 'r', body: body(3_000, 'r1') }]);
      expect(report.sent).toEqual([]);
      expect(report.failed).toMatchObject([{ id: 'r1', code: 'InvalidParameterValue', senderFault: false, retryable: true, judged: true }]);
      expect(lagging.reads()).toBe(2);
    } finally {
      lagging.client.destroy();
    }
  });

  it('the relay while a lowered limit propagates: the refused events stay pending (one re-read, no loop), then go through S3 on the next flush', async () => {
    const url = await queue(8_192);
    const lagging = laggingClient();
    try {
      const sender = sqsSender({ client: lagging.client, queueUrl: url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}-relaylag/` }), retry: { retries: 0 } });
      const { write, store } = redisWriter(redis, sender);
      const agg = `stale-lag-${name}`;
      await write.invoke({ agg, n: 1 });
      lagging.lag(8_192);
      await setMax(url, 1_024);
      const before = lagging.reads();
      await write.invoke({ agg, n: 2, count: 2, pad: 3_000 });
      expect(lagging.reads() - before, 'one re-read in the flush: a refusal ends the run for the aggregate').toBe(1);
      expect(await store.relay.listQuarantined({ limit: 100 })).not.toContainEqual(expect.objectContaining({ where: agg }));
      expect(await pendingIn(redis, agg)).toBe(2);
      lagging.lag(undefined);
      await write.invoke({ agg, n: 4 });
      expect(await store.relay.listQuarantined({ limit: 100 })).not.toContainEqual(expect.objectContaining({ where: agg }));
      expect(await pendingIn(redis, agg)).toBe(0);
      const got = await receiveAll(sqs, url, 4);
      const seqs = got.map((m) => [m.MessageAttributes?.['steadyfn.seq']?.StringValue, m.MessageAttributes?.['steadyfn.claimCheck']?.StringValue ?? '-']);
      expect(seqs.sort()).toEqual([['1', '-'], ['2', '1'], ['3', '1'], ['4', '-']]);
    } finally {
      lagging.client.destroy();
    }
  });

  it('the relay between two flushes of one warm function: the event is claim-checked, not quarantined', async () => {
    const url = await queue(8_192);
    const sender = sqsSender({ client: sqs, queueUrl: url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}-relay/` }), retry: { retries: 0 } });
    const { write, store } = redisWriter(redis, sender);
    const agg = `stale-${name}`;
    await write.invoke({ agg, n: 1 });
    await setMax(url, 1_024);
    await write.invoke({ agg, n: 2, count: 2, pad: 3_000 });
    expect(await store.relay.listQuarantined({ limit: 100 })).not.toContainEqual(expect.objectContaining({ where: agg }));
    expect(await pendingIn(redis, agg)).toBe(0);
    const got = await receiveAll(sqs, url, 3);
    const seqs = got.map((m) => [m.MessageAttributes?.['steadyfn.seq']?.StringValue, m.MessageAttributes?.['steadyfn.claimCheck']?.StringValue ?? '-']);
    expect(seqs.sort()).toEqual([['1', '-'], ['2', '1'], ['3', '1']]);
  });
});
