/**
 * Which MongoDB driver errors a lease store types as `LeaseStoreUnavailableError`: besides a
 * network, server-selection or pool failure, a reply that the server cannot serve now — a
 * replica-set election (`NotWritablePrimary`, `PrimarySteppedDown`,
 * `InterruptedDueToReplStateChange`) or a restart (`ShutdownInProgress`, `InterruptedAtShutdown`)
 * — which reached the caller raw before, with no stable code. FerretDB has no replica set, so the
 * driver's own error classes stand for the server's replies here (pure classification); the
 * unreachable-server path runs against a real FerretDB in test/mongo-store-unavailable.test.ts.
 */
import { MongoBulkWriteError, MongoNetworkError, MongoServerError, MongoWriteConcernError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError } from '../errors.js';
import { storeError } from './store-unavailable.js';

const server = (code: number, codeName: string) => new MongoServerError({ message: `${codeName} (a reply)`, code, codeName });

describe('storeError(mongodb)', () => {
  it.each([
    [10107, 'NotWritablePrimary'],
    [189, 'PrimarySteppedDown'],
    [11602, 'InterruptedDueToReplStateChange'],
    [91, 'ShutdownInProgress'],
    [11600, 'InterruptedAtShutdown'],
    [13435, 'NotPrimaryNoSecondaryOk'],
  ])('a %s %s reply is LEASE_STORE_UNAVAILABLE (503, retryable), the reply its cause', (code, codeName) => {
    const reply = server(code, codeName);
    const typed = storeError('mongodb', reply);
    expect(typed).toBeInstanceOf(LeaseStoreUnavailableError);
    expect(typed).toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', status: 503, retryable: true, store: 'mongodb', cause: reply });
  });

  it('a write concern error of an election is unavailable; an insertMany failed by one is too', () => {
    const concern = new MongoWriteConcernError({ writeConcernError: { code: 189, errmsg: 'primary stepped down while waiting for replication' } } as never);
    expect(storeError('mongodb', concern)).toBeInstanceOf(LeaseStoreUnavailableError);
    const bulk = new MongoBulkWriteError(server(10107, 'NotWritablePrimary'), { insertedCount: 0, writeErrors: [] } as never);
    expect(storeError('mongodb', bulk)).toBeInstanceOf(LeaseStoreUnavailableError);
  });

  it('what is about the operation passes through unchanged: a duplicate key, a validation failure, the caller maxTimeMS, an aborted call', () => {
    for (const reply of [server(11000, 'DuplicateKey'), server(121, 'DocumentValidationFailure'), server(262, 'ExceededTimeLimit')]) {
      expect(storeError('mongodb', reply)).toBe(reply);
    }
    const controller = new AbortController();
    controller.abort();
    const busy = server(10107, 'NotWritablePrimary');
    expect(storeError('mongodb', busy, controller.signal)).toBe(busy);
  });

  it('inside a transaction an error labelled for a retry reaches withTransaction as the driver error (it retries only its own labelled errors)', () => {
    const election = server(11602, 'InterruptedDueToReplStateChange');
    election.addErrorLabel('TransientTransactionError');
    expect(storeError('mongodb', election)).toBe(election);
    const lost = new MongoNetworkError('connection 4 to 127.0.0.1:27017 closed');
    lost.addErrorLabel('TransientTransactionError');
    expect(storeError('mongodb', lost)).toBe(lost);
    const commit = server(189, 'PrimarySteppedDown');
    commit.addErrorLabel('UnknownTransactionCommitResult');
    expect(storeError('mongodb', commit)).toBe(commit);
    // The same errors outside a transaction (no label) are typed.
    expect(storeError('mongodb', server(11602, 'InterruptedDueToReplStateChange'))).toBeInstanceOf(LeaseStoreUnavailableError);
    expect(storeError('mongodb', new MongoNetworkError('connection 4 to 127.0.0.1:27017 closed'))).toBeInstanceOf(LeaseStoreUnavailableError);
  });
});
