/**
 * Brief bk, item 4: push mode (`append`) did no reserve check — the pull path (`run`) stops
 * before any work when `ctx.remainingMs()` is not past `reserveMs`, but `append` probed S3, took
 * the stream's lease and wrote its object whatever the deadline (in a function with less time
 * left than that, cut off mid-write with the lease held). Now it stops the same way, nothing
 * written, and throws `DeadlineExceededError` (retryable): a resolved append is the caller's sign
 * to acknowledge the batch (the README's relay sender does), so it must not resolve. Moto S3.
 */
import { DeadlineExceededError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { streamBackup } from '../src/index.js';
import { insertEnvelope } from './outbox-fixture.js';
import { deadlineIn, freshBucket, listAll, S3_SERVERS } from './support.js';

describe('stream append honours reserveMs', () => {
  it('writes nothing with a deadline under the reserve, and the batch with time', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'reserve' };
      const job = streamBackup({ name: 'orders', target: storage, reserveMs: 5_000 });
      const warned: string[] = [];
      const log = { info: () => undefined, warn: (m: string) => void warned.push(m), error: () => undefined };
      const batch = [insertEnvelope('a'), insertEnvelope('b')];

      const short = await job.append(batch, { ...deadlineIn(2_000), log }).catch((e: unknown) => e);
      expect(short).toBeInstanceOf(DeadlineExceededError);
      expect(short).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
      expect(warned).toEqual([expect.stringContaining('reserveMs')]);
      expect(await listAll(s3.client, s3.bucket, 'reserve/')).toEqual([]);

      // The same batch in an invocation with time is written (no lease was left held).
      expect(await job.append(batch, deadlineIn(60_000))).toMatchObject({ objects: 1, records: 2, stoppedEarly: false });
    } finally {
      await s3.drop();
    }
  }, 60_000);
});
