/**
 * Review finding (hx, message loss under `terminalErrors: 'ack'`): the handler acknowledges
 * (deletes) a message whose failure is terminal unless it is a `ConfigurationError`. A lease
 * store's `LEASE_RECORD_UNREADABLE` (a record under its prefix another program or an older
 * deployment wrote) and `LEASE_STORE_UNSUPPORTED` (a server without conditional writes / a unique
 * `_id`) are terminal, but they are faults of the deployment, not of the message: each message
 * meets them again until the deployment is fixed. They were plain `SteadyError`s, so under
 * 'ack' every such message was acknowledged, its event gone for good — through the outbox inbox,
 * the idempotency plugin or a function calling the store itself. Right: both are
 * `ConfigurationError`s (codes, names and messages unchanged), so the message is reported failed
 * and the queue keeps it for its dead-letter queue. Real Redis and moto S3.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, handler, SteadyError, TerminalError } from '@steadyfn/handler';
import { LeaseRecordUnreadableError, LeaseStoreUnsupportedError, type LeaseStore } from '../src/index.js';
import { s3LeaseStore } from '../src/s3.js';
import { openBackend, token, type Backend } from './support/backends.js';

const lambdaContext = { awsRequestId: 'req-hx', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };

/** An SQS batch as Lambda's event source mapping hands it over, one record per body. */
function sqsBatch(bodies: string[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      receiptHandle: 'rh',
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jobs',
      awsRegion: 'us-east-1',
    })),
  };
}

/** A consumer that claims the lease of each message's `key` (a poison message throws its own terminal error). */
function consumer(store: LeaseStore, ran: string[], logs: string[]) {
  return handler({ terminalErrors: 'ack', logSink: (l) => void logs.push(l) }, async (input) => {
    const { key } = input as { key: string };
    ran.push(key);
    if (key === 'poison') throw new TerminalError('REJECTED', 'not a job');
    await store.claim({ key, owner: token(), leaseMs: 10_000 });
  });
}

describe('lease deployment faults are ConfigurationErrors', () => {
  it('LeaseRecordUnreadableError and LeaseStoreUnsupportedError keep their codes, names and messages, and name the option at fault', () => {
    const unreadable = new LeaseRecordUnreadableError();
    expect(unreadable).toBeInstanceOf(ConfigurationError);
    expect(unreadable).toBeInstanceOf(SteadyError);
    expect(unreadable).toMatchObject({
      name: 'LeaseRecordUnreadableError',
      code: 'LEASE_RECORD_UNREADABLE',
      message: "a record under the lease store's prefix was not written by @steadyfn/lease; it is left alone",
      status: 500,
      retryable: false,
      expose: false,
      field: 'prefix',
      issues: [{ field: 'prefix', expected: 'a key prefix that only @steadyfn/lease writes under' }],
    });
    expect(new LeaseRecordUnreadableError('collection')).toMatchObject({ field: 'collection', issues: [{ field: 'collection', expected: 'a collection that only @steadyfn/lease writes' }] });
    const unsupported = new LeaseStoreUnsupportedError('if-match', 'the S3 server overwrote an object', 'an S3 server with conditional writes');
    expect(unsupported).toBeInstanceOf(ConfigurationError);
    expect(unsupported).toMatchObject({
      name: 'LeaseStoreUnsupportedError',
      code: 'LEASE_STORE_UNSUPPORTED',
      message: 'lease store refused: the S3 server overwrote an object',
      check: 'if-match',
      retryable: false,
      field: 'store',
      issues: [{ field: 'store', expected: 'an S3 server with conditional writes' }],
    });
  });
});

describe("terminalErrors: 'ack' keeps a message that met a lease deployment fault", () => {
  let redis: Backend;
  let s3: Backend;
  beforeAll(async () => {
    [redis, s3] = await Promise.all([openBackend('redis'), openBackend('s3')]);
  });
  afterAll(async () => {
    await Promise.all([redis?.close(), s3?.close()]);
  });

  it('a record another program wrote under the prefix (Redis): reported failed, not acknowledged; a poison message still is', async () => {
    const foreign = `foreign-${randomUUID()}`;
    await redis.redis!.set(redis.prefix + foreign, 'written by an older deployment', 'PX', 60_000);
    const ran: string[] = [];
    const logs: string[] = [];
    const fresh = `fresh-${randomUUID()}`;
    const answer = await consumer(redis.store, ran, logs).aws(sqsBatch([JSON.stringify({ key: 'poison' }), JSON.stringify({ key: foreign }), JSON.stringify({ key: fresh })]), lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(ran).toEqual(['poison', foreign, fresh]);
    expect(logs.join('\n')).toContain('LEASE_RECORD_UNREADABLE');
    expect(logs.join('\n')).not.toContain('older deployment');
    expect(await redis.redis!.get(redis.prefix + foreign)).toBe('written by an older deployment');
  });

  it('an S3 server that ignores conditional writes: reported failed, not acknowledged', async () => {
    const { client, bucket } = s3.s3!;
    // The real server, reached by requests whose conditions were dropped on the way: it overwrites.
    const ignoring = {
      send(command: { input: Record<string, unknown> }, options?: unknown) {
        if (command instanceof PutObjectCommand) {
          delete command.input.IfNoneMatch;
          delete command.input.IfMatch;
        }
        return client.send(command as never, options as never);
      },
    };
    const store = s3LeaseStore({ client: ignoring, bucket, prefix: `${s3.prefix}ignoring-${randomUUID()}/` });
    const ran: string[] = [];
    const logs: string[] = [];
    const answer = await consumer(store, ran, logs).aws(sqsBatch([JSON.stringify({ key: 'job' })]), lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(ran).toEqual(['job']);
    expect(logs.join('\n')).toContain('LEASE_STORE_UNSUPPORTED');
  });
});
