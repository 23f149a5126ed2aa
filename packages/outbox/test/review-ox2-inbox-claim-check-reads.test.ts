/**
 * The inbox on a large standard-queue batch of claim-checked events (S3 on moto): its order of
 * the batch (the handler's `batchOrder` hook, asked for every message at once) must not fetch
 * every body from S3 at once. With the relay's attributes (`steadyfn.aggregate`, `steadyfn.seq`)
 * no body is read for the order; without them the reads are capped — either way at most
 * CLAIM_CHECK_READS_IN_FLIGHT (16) GetObject calls are in flight, and each aggregate's events
 * still run in seq order whatever order the batch gave them in.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import pLimit from 'p-limit';
import { handler } from '@steadyfn/handler';
import { memoryStore } from '@steadyfn/idempotency';
import { lambdaContext, sqsRecord } from './support.js';
import { createBucket, s3Client } from './sqs-servers.js';
import { countingS3 } from './s3-body-count.js';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { CLAIM_CHECK_READS_IN_FLIGHT } from '../src/inbox-order.js';
import { inbox } from '../src/inbox.js';
import { s3ClaimCheck } from '../src/s3.js';
import { sha256Hex } from '@steadyfn/lease/internal';

const events = { Noted: { aggregateType: 'doc', schema: z.object({ n: z.number() }) } };
const AGGREGATES = 24;
const PER_AGGREGATE = 10;

const s3 = s3Client();
let bucket: string;
/** The batch's records, shuffled: [pointer body, aggregate, seq, key]. */
let stored: Array<{ pointer: string; aggregate: string; seq: number }>;
beforeAll(async () => {
  bucket = await createBucket(s3, 'ox2-inbox-reads');
  const run = randomBytes(3).toString('hex');
  const all: Array<{ pointer: string; aggregate: string; seq: number }> = [];
  const puts = pLimit(8);
  const work: Array<Promise<unknown>> = [];
  for (let a = 0; a < AGGREGATES; a++) {
    for (let seq = 1; seq <= PER_AGGREGATE; seq++) {
      const body = serializeEvent(prepareEvent(events, { type: 'Noted', aggregateId: `d${a}-${run}`, payload: { n: seq } }, {}), seq);
      const bytes = Buffer.from(body, 'utf8');
      const key = `inbox/${run}/${a}-${seq}`;
      work.push(puts(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))));
      all.push({ pointer: JSON.stringify({ claimCheck: 1, bucket, key, size: bytes.length, sha256: sha256Hex(bytes) }), aggregate: `doc/d${a}-${run}`, seq });
    }
  }
  await Promise.all(work);
  // A fixed shuffle (reversed, then interleaved): later seqs of an aggregate come before earlier ones.
  stored = all.reverse().sort((x, y) => (x.seq % 3) - (y.seq % 3));
}, 60_000);
afterAll(() => s3.destroy());

describe.each([
  { name: 'with the relay attributes (no body read to order the batch)', relayAttributes: true },
  { name: 'without them (bodies read to order the batch, capped)', relayAttributes: false },
])('inbox on 240 claim-checked records $name', ({ relayAttributes }) => {
  it(`keeps at most ${CLAIM_CHECK_READS_IN_FLIGHT} GetObject calls in flight and runs each aggregate in seq order`, async () => {
    const counting = countingS3();
    const applied = new Map<string, number[]>();
    const consume = handler(
      { use: [inbox({ store: memoryStore(), consumer: `reads-${relayAttributes}`, claimCheck: s3ClaimCheck({ s3: counting.s3 }) })], logSink: () => undefined },
      async (_input, ctx) => {
        const e = ctx.inbox.event;
        const key = `${e.aggregateType}/${e.aggregateId}`;
        applied.set(key, [...(applied.get(key) ?? []), e.seq]);
      },
    );
    const Records = stored.map(({ pointer, aggregate, seq }) => {
      const record = sqsRecord(pointer);
      const attributes: Record<string, { stringValue: string; dataType: string }> = { 'steadyfn.claimCheck': { stringValue: '1', dataType: 'String' } };
      if (relayAttributes) {
        attributes['steadyfn.aggregate'] = { stringValue: aggregate, dataType: 'String' };
        attributes['steadyfn.seq'] = { stringValue: String(seq), dataType: 'Number' };
      }
      return { ...record, messageAttributes: attributes };
    });
    expect(Records).toHaveLength(AGGREGATES * PER_AGGREGATE);
    expect(await consume.aws({ Records }, { ...lambdaContext('reads'), getRemainingTimeInMillis: () => 120_000 })).toEqual({ batchItemFailures: [] });
    expect(counting.gets).toBe(AGGREGATES * PER_AGGREGATE);
    expect(counting.peakGets).toBeLessThanOrEqual(CLAIM_CHECK_READS_IN_FLIGHT);
    expect(applied.size).toBe(AGGREGATES);
    for (const seqs of applied.values()) expect(seqs).toEqual(Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1));
    counting.s3.destroy();
  }, 120_000);
});
