/**
 * `terminalErrors: 'ack'` acknowledges a message's own terminal failure (a poison message), not a
 * `ConfigurationError`: a wrong option or credentials the server refuses (`CONNECTION_AUTH_FAILED`,
 * raised by `@steadyfn/connections` at connect) fail every message until the deployment is fixed,
 * so they stay reported failed and the queue keeps them (then its dead-letter queue). Before,
 * every message of a credential rotation window was acknowledged and dropped. Likewise any
 * terminal error with a 5xx status (a record another program wrote under the idempotency prefix:
 * `IDEMPOTENCY_RECORD_CORRUPT`), which was acknowledged and dropped. Real SQS event
 * shapes through the Lambda entry; no server is needed for the decision.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, handler, TerminalError } from './index.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };

const authFailed = () =>
  new ConfigurationError('redis(): the Redis server refused the credentials (WRONGPASS: wrong password, or unknown or disabled user); check the password and user in the URL (or REDIS_URL)', {
    field: 'url',
    expected: 'a user and password the server accepts (AUTH / ACL)',
    code: 'CONNECTION_AUTH_FAILED',
  });

describe("terminalErrors: 'ack' and configuration errors", () => {
  it('a standard SQS batch: the poison message is acknowledged, the ones that met CONNECTION_AUTH_FAILED are reported failed', async () => {
    const batch = fixture('sqs-standard-batch.json');
    batch.Records = ['poison', 'auth', 'ok', 'auth'].map((body, i) => ({ ...batch.Records[0], messageId: `m-${i}`, body: JSON.stringify({ kind: body }) }));
    const logs: string[] = [];
    const main = handler({ terminalErrors: 'ack', logSink: (l) => logs.push(l) }, (input) => {
      const { kind } = input as { kind: string };
      if (kind === 'poison') throw new TerminalError('REJECTED', 'not an order');
      if (kind === 'auth') throw authFailed();
      return undefined;
    });
    expect(await main.aws(batch, lambdaContext)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-3' }] });
    expect(logs.join('\n')).toContain('CONNECTION_AUTH_FAILED');
  });

  it('a FIFO batch: a configuration error stops the batch there (the rest reported, unprocessed); a poison message before it does not', async () => {
    const batch = fixture('sqs-fifo-batch.json');
    batch.Records = ['poison', 'ok', 'auth', 'ok'].map((kind, i) => ({ ...batch.Records[i], body: JSON.stringify({ kind }) }));
    const ids = batch.Records.map((r: Json) => r.messageId as string);
    const ran: string[] = [];
    const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, (input) => {
      const { kind } = input as { kind: string };
      ran.push(kind);
      if (kind === 'poison') throw new TerminalError('REJECTED', 'not an order');
      if (kind === 'auth') throw authFailed();
      return undefined;
    });
    const answer = (await main.aws(batch, lambdaContext)) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(answer.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([ids[2], ids[3]]);
    expect(ran).toEqual(['poison', 'ok', 'auth']);
  });

  it('a terminal error with a 5xx status (the function\'s or its stores\' fault) is reported failed; a 4xx one is acknowledged', async () => {
    const batch = fixture('sqs-standard-batch.json');
    batch.Records = ['poison', 'broken', 'ok'].map((kind, i) => ({ ...batch.Records[0], messageId: `m-${i}`, body: JSON.stringify({ kind }) }));
    const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, (input) => {
      const { kind } = input as { kind: string };
      if (kind === 'poison') throw new TerminalError('REJECTED', 'not an order');
      if (kind === 'broken') throw new TerminalError('RECORD_CORRUPT', 'a stored record could not be read', { status: 500 });
      return undefined;
    });
    expect(await main.aws(batch, lambdaContext)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});
