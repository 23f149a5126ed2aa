/**
 * Review: a stream backup of a queue that never goes quiet, inside an invocation with a
 * deadline (moto S3 + moto SQS, gofakes3 + fauxqs). A producer sends a message every 200 ms,
 * so every receive finds one: the SQS pull used to go on until it had 1,000 messages (200 s),
 * past any deadline — the handler's signal then aborted it and nothing was ever archived (the
 * messages came back after their visibility timeout, to the same fate). A pull now returns by
 * the time the run needs to flush (the deadline less `reserveMs`, at most `buffer.maxMs`), and
 * a run stopped by the deadline flushes what it has instead of dropping it.
 */
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { streamBackup } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { freshBucket, S3_SERVERS, unique } from './support.js';

describe.each(S3_SERVERS)('a stream backup under a deadline, on $name', (server) => {
  const sqsServer = server.name === 'moto' ? { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' } : { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' };

  it(`a queue that never goes quiet (${sqsServer.name}): the run returns before its deadline with what it pulled archived; nothing is lost or archived twice`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('trickle').replace(/[^a-z0-9-]/g, '') }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'trickle' };
    const sent = new Set<string>();
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        const out = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ n: i }) }));
        sent.add(out.MessageId!);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const job = streamBackup({ name: 'q', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 1 }), target: storage, reserveMs: 2_000 });
      // As the handler gives it: 6 s left, and a signal that aborts at the deadline.
      const deadline = Date.now() + 6_000;
      const signal = AbortSignal.timeout(6_000);
      const result = await job.run({ remainingMs: () => deadline - Date.now(), signal });
      // Returned before its deadline: the signal (a timer for the deadline) had not aborted yet — an order, no clock read.
      expect(signal.aborted, 'the run returned before its deadline signal aborted').toBe(false);
      // (Stopped by the deadline, or by a short poll near it that found the queue empty for a moment.)
      expect(result.records).toBeGreaterThan(0);
      expect(result.objects).toBeGreaterThanOrEqual(1);

      producing = false;
      await producer;
      // The rest, without a deadline: every message archived once.
      await streamBackup({ name: 'q', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0 }), target: storage }).run();
      const checkpoint = await loadStreamCheckpoint(storage as never, 'q');
      const ids = new Set<string>();
      const replay = await replayObjects(storage as never, await timelineObjects(storage as never, checkpoint, 1, 0), async (records) => void records.forEach((r) => ids.add(r.id)));
      expect(ids).toEqual(sent);
      expect(replay.duplicates).toBe(0);
    } finally {
      producing = false;
      await producer.catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await s3.drop();
    }
  }, 60_000);
});
