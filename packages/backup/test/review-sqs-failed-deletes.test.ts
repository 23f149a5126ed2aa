/**
 * Review follow-up: `sqsSource` acknowledged archived messages with `DeleteMessageBatch` and
 * ignored its `Failed` entries (a 200 answer that lists per-entry failures): a message whose
 * delete failed came back after the visibility timeout and was archived again, and nobody was
 * told. Failed entries must be retried, and what still fails logged (entry id, code, sender
 * fault — never the body or receipt handle).
 *
 * The queue is real (moto, fauxqs); the client in front of it answers the first
 * `DeleteMessageBatch` as SQS does when some entries fail on its side (`SenderFault: false`):
 * it deletes only the other entries and lists these under `Failed` — the documented shape.
 */
import { DeleteMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { streamBackup } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { freshQueue, SQS_SERVERS } from './support.js';

type Entry = { Id: string; ReceiptHandle: string };

/** A client whose DeleteMessageBatch fails `failing(entry, call)` entries, as SQS reports them. */
function failingDeletes(sqs: SQSClient, failing: (entry: Entry, call: number) => { code: string; senderFault: boolean } | undefined) {
  let call = 0;
  return {
    async send(command: unknown, options?: unknown): Promise<unknown> {
      if (!(command instanceof DeleteMessageBatchCommand)) return sqs.send(command as never, options as never);
      call++;
      const entries = (command.input.Entries ?? []) as Entry[];
      const failed = entries.flatMap((e) => {
        const f = failing(e, call);
        return f ? [{ Id: e.Id, Code: f.code, SenderFault: f.senderFault, Message: 'injected' }] : [];
      });
      const rest = entries.filter((e) => !failed.some((f) => f.Id === e.Id));
      const out = rest.length > 0 ? ((await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: command.input.QueueUrl, Entries: rest }), options as never)) as { Successful?: unknown[] }) : {};
      return { Successful: out.Successful ?? [], Failed: failed };
    },
  };
}


describe.each(SQS_SERVERS)('sqsSource: DeleteMessageBatch entries that failed, on $name', (server) => {
  const setup = (count: number) => freshQueue(server, 'faildel', Array.from({ length: count }, (_, i) => JSON.stringify({ secret: `body-${i}` })), 'sqsdel');

  it('retries entries that failed on the server side: every archived message is deleted', async () => {
    const { sqs, queueUrl, left, cleanup, storage } = await setup(6);
    try {
      // The first call fails every other entry on SQS's side; later calls succeed.
      const client = failingDeletes(sqs, (e, call) => (call === 1 && Number(e.Id) % 2 === 0 ? { code: 'InternalError', senderFault: false } : undefined));
      const job = streamBackup({ name: 'q', source: sqsSource({ client, queueUrl, waitTimeSeconds: 0 }), target: storage });
      expect(await job.run()).toMatchObject({ records: 6 });
      expect(await left()).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('logs what still failed (ids and codes, no bodies or receipt handles), and the run succeeds', async () => {
    const { sqs, queueUrl, left, cleanup, storage } = await setup(3);
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const log = { info: () => undefined, error: () => undefined, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, ...(fields ? { fields } : {}) }) };
    try {
      // One entry's receipt handle is refused every time (a sender fault: no retry mends it).
      const client = failingDeletes(sqs, (e) => (e.Id === '1' ? { code: 'ReceiptHandleIsInvalid', senderFault: true } : undefined));
      const job = streamBackup({ name: 'q', source: sqsSource({ client, queueUrl, waitTimeSeconds: 0 }), target: storage });
      expect(await job.run({ log })).toMatchObject({ records: 3 });
      expect(await left()).toBe(1);
      const logged = warnings.filter((w) => /delete/i.test(w.message));
      expect(logged).toHaveLength(1);
      expect(JSON.stringify(logged[0])).toMatch(/ReceiptHandleIsInvalid/);
      expect(JSON.stringify(warnings)).not.toMatch(/body-|secret/);
    } finally {
      await cleanup();
    }
  });
});
