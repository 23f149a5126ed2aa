/**
 * Fuzz: the partial batch answer against a model of what AWS documents, for SQS standard and
 * FIFO queues and for Kinesis and DynamoDB Streams, built from the published sample records.
 * Each message succeeds, throws a `RetryableError`, a `TerminalError`, or any value at all (a
 * non-Error, or one that throws when read); `terminalErrors` is `fail` or `ack`; message ids may repeat within a batch.
 *
 * - standard queue: `batchItemFailures` names exactly the messages whose failure is reported
 *   (retryable, or terminal under `fail`), in batch order;
 * - FIFO queue: every message from the first reported failure on — whatever its message group —
 *   and none of those after it is run;
 * - stream: the sequence number of the first reported failure (the checkpoint: Lambda resumes
 *   there), and no later record is run.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handler, RetryableError, TerminalError } from '../src/index.js';

type Json = Record<string, any>;
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as { Records: Json[] };
const context = { awsRequestId: 'req', functionName: 'f', getRemainingTimeInMillis: () => 60_000 };

type Behaviour = { kind: 'ok' } | { kind: 'retryable' } | { kind: 'terminal' } | { kind: 'thrown'; value: unknown } | { kind: 'unreadable'; target: 'object' | 'function' };
const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.constant<Behaviour>({ kind: 'ok' }),
  fc.constant<Behaviour>({ kind: 'retryable' }),
  fc.constant<Behaviour>({ kind: 'terminal' }),
  // A value that throws when read (a revoked Proxy, of an object or of a function): an unexpected failure like any other.
  fc.constantFrom<Behaviour>({ kind: 'unreadable', target: 'object' }, { kind: 'unreadable', target: 'function' }),
  // Anything but a value shaped like another copy's SteadyError (a typed error by design).
  fc.anything({ withNullPrototype: true, withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true }).map((value) => ({ kind: 'thrown' as const, value })),
);

/** Whether the wrapper reports this behaviour's failure (a thrown non-SteadyError is INTERNAL, retryable). */
const reported = (b: Behaviour, terminalErrors: 'fail' | 'ack') => b.kind === 'retryable' || b.kind === 'thrown' || b.kind === 'unreadable' || (b.kind === 'terminal' && terminalErrors === 'fail');

function act(b: Behaviour): void {
  if (b.kind === 'retryable') throw new RetryableError('DOWNSTREAM_BUSY', 'busy');
  if (b.kind === 'terminal') throw new TerminalError('ORDER_INVALID', 'invalid');
  if (b.kind === 'thrown') throw b.value;
  if (b.kind === 'unreadable') {
    const { proxy, revoke } = Proxy.revocable(b.target === 'function' ? function thrower() {} : {}, {});
    revoke();
    throw proxy;
  }
}

const batch = fc.record({
  fifo: fc.boolean(),
  terminalErrors: fc.constantFrom<'fail' | 'ack'>('fail', 'ack'),
  // Message i's id is ids[i]: a small alphabet makes repeats within a batch common.
  messages: fc.array(fc.record({ id: fc.constantFrom('m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f', 'm-g'), group: fc.constantFrom('g1', 'g2'), behaviour }), { minLength: 1, maxLength: 8 }),
});

describe('partial batch answers against the documented model', () => {
  it('SQS standard and FIFO queues', async () => {
    const standard = fixture('sqs-standard-batch.json').Records[0]!;
    const fifo = fixture('sqs-fifo-batch.json').Records[0]!;
    await fc.assert(
      fc.asyncProperty(batch, async ({ fifo: isFifo, terminalErrors, messages }) => {
        const template = isFifo ? fifo : standard;
        const Records = messages.map((m, i) => {
          const record = structuredClone(template);
          record.messageId = m.id;
          if (isFifo) Object.assign(record.attributes, { MessageGroupId: m.group, SequenceNumber: String(18880965000000000001n + BigInt(i)) });
          return record;
        });
        const ran: number[] = [];
        const main = handler({ terminalErrors, logSink: () => undefined }, (_input, ctx) => {
          const index = ctx.trigger.kind === 'queue' ? ctx.trigger.batchIndex : -1;
          ran.push(index);
          act(messages[index]!.behaviour);
        });
        const answer = await main.aws({ Records }, context);
        const failing = messages.map((m) => reported(m.behaviour, terminalErrors));
        const first = failing.indexOf(true);
        const expected = isFifo
          ? first < 0 ? [] : messages.slice(first).map((m) => m.id)
          : messages.filter((_, i) => failing[i]).map((m) => m.id);
        expect(answer).toEqual({ batchItemFailures: expected.map((itemIdentifier) => ({ itemIdentifier })) });
        const runs = isFifo && first >= 0 ? first + 1 : messages.length;
        expect([...ran].sort((a, b) => a - b)).toEqual(messages.slice(0, runs).map((_, i) => i));
      }),
      { numRuns: 300 },
    );
  });

  for (const [name, file, sequenceOf] of [
    ['Kinesis', 'kinesis-batch.json', (r: Json) => r.kinesis.sequenceNumber as string],
    ['DynamoDB Streams', 'dynamodb-streams-batch.json', (r: Json) => r.dynamodb.SequenceNumber as string],
  ] as const) {
    it(`${name}: the first reported failure's sequence number, nothing after it run`, async () => {
      const records = fixture(file).Records;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom<'fail' | 'ack'>('fail', 'ack'), fc.array(behaviour, { minLength: records.length, maxLength: records.length }), async (terminalErrors, behaviours) => {
          const ran: number[] = [];
          const main = handler({ terminalErrors, logSink: () => undefined }, (_input, ctx) => {
            const index = 'batchIndex' in ctx.trigger ? (ctx.trigger.batchIndex as number) : -1;
            ran.push(index);
            act(behaviours[index]!);
          });
          const answer = await main.aws({ Records: structuredClone(records) }, context);
          const first = behaviours.findIndex((b) => reported(b, terminalErrors));
          expect(answer).toEqual({ batchItemFailures: first < 0 ? [] : [{ itemIdentifier: sequenceOf(records[first]!) }] });
          expect(ran).toEqual(behaviours.slice(0, first < 0 ? behaviours.length : first + 1).map((_, i) => i));
        }),
        { numRuns: 150 },
      );
    });
  }
});
