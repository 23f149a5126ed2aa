/**
 * Brief bk (s45), item 4: `sqsSource` keeps the receipt handles of the messages it pulled until
 * they are acknowledged. A run that ended between its pull and its acknowledgement (failed, cut
 * off) left them in the map, and only a held message's deferred error ever cleared it: in a warm
 * instance the map grew run after run with handles no acknowledgement would take. Worse, a later
 * run whose only message could not be read saw those stale handles as records "awaiting their
 * acknowledgement", deferred the message's error to an acknowledgement that never came, and
 * resolved — the refused message was never reported. A pull that does not continue from the last
 * one (a new run) now drops them.
 *
 * Real queues (moto, fauxqs); the cut-off run is a pull with no acknowledgement after it, as a
 * run that fails before its object is written leaves it.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { streamBackup } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { freshQueue, SQS_SERVERS } from './support.js';


describe.each(SQS_SERVERS)('sqsSource in a warm instance, after a run cut off between pull and acknowledgement, on $name', (server) => {
  const setup = (count: number) => freshQueue(server, 'warm', Array.from({ length: count }, (_, i) => JSON.stringify({ i })), 'warm');

  it("the next run's unreadable message is reported (its error thrown), not deferred behind the cut-off run's handles", async () => {
    const { sqs, queueUrl, cleanup, storage } = await setup(3);
    try {
      // Long visibility: the cut-off run's messages stay in flight (as when another instance took them since).
      const source = sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 300 });
      const cutOff = await source.pull({ position: null, state: undefined, lastRunAt: undefined }, 100);
      expect(cutOff.records).toHaveLength(3);
      // A claim-checked message, and no claimCheck option: it cannot be archived.
      const pointer = JSON.stringify({ claimCheck: 1, bucket: 'b', key: 'claims/x', size: 1, sha256: 'a'.repeat(64) });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: pointer, MessageAttributes: { 'steadyfn.claimCheck': { DataType: 'String', StringValue: '1' } } }));

      const job = streamBackup({ name: 'warm', source, target: storage });
      await expect(job.run()).rejects.toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_NO_READER', name: 'SqsClaimCheckError' });
    } finally {
      await cleanup();
    }
  });

  it('the messages of the cut-off run come back and are archived and deleted by a run of many pulls', async () => {
    const { sqs, queueUrl, left, cleanup, storage } = await setup(7);
    try {
      const source = sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 1 });
      expect((await source.pull({ position: null, state: undefined, lastRunAt: undefined }, 100)).records).toHaveLength(7);
      await new Promise((r) => setTimeout(r, 1500));
      // Two records a pull: the run's later pulls continue from its earlier ones, whose handles it keeps.
      const job = streamBackup({ name: 'warm2', source, target: storage, maxRecords: 2 });
      expect(await job.run()).toMatchObject({ records: 7 });
      expect(await left()).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
