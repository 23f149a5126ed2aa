import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { MongoNetworkError, MongoServerSelectionError, MongoServerError, TopologyDescription } from 'mongodb';
import { isConnectionError, wasNotSent } from './errors.js';

const require = createRequire(import.meta.url);
// Not exported from ioredis' root: what a Cluster that reaches none of its nodes rejects with.
const ClusterAllFailedError = (require('ioredis/built/errors/ClusterAllFailedError.js') as { default: new (message: string, last?: Error) => Error }).default;
// ioredis' own dependency: resolved from ioredis, not from this package.
const { AbortError } = createRequire(require.resolve('ioredis'))('redis-errors') as { AbortError: new (message: string) => Error };

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('isConnectionError / wasNotSent', () => {
  it('socket errors are connection errors; only a refused connect proves nothing was sent', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED']) expect(isConnectionError(withCode(`x ${code}`, code))).toBe(true);
    expect(wasNotSent(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(false);
    expect(wasNotSent(withCode('write EPIPE', 'EPIPE'))).toBe(false);
    expect(wasNotSent(withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'))).toBe(true);
  });

  it("ioredis: 'Connection is closed' and 'Cluster isn't ready' may follow a send; 'Stream isn't writeable' precedes one", () => {
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(wasNotSent(new Error('Connection is closed.'))).toBe(false);
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    expect(isConnectionError(offline)).toBe(true);
    expect(wasNotSent(offline)).toBe(true);
    // A Cluster with no node connection to send a command to — or, from its failover retry, one
    // already written (test/review-cluster-resend.test.ts gets both from a real one).
    const clusterOffline = new Error("Cluster isn't ready and enableOfflineQueue options is false");
    expect(isConnectionError(clusterOffline)).toBe(true);
    expect(wasNotSent(clusterOffline)).toBe(false);
    // A Cluster node down or restarting (CLUSTERDOWN, MOVED) until ioredis' redirection limit
    // (test/cluster-down.test.ts gets it from a real one).
    const redirections = new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down');
    expect(isConnectionError(redirections)).toBe(true);
    expect(wasNotSent(redirections)).toBe(false);
    const maxRetries = Object.assign(new Error('Reached the max retries per request limit (which is 0).'), { name: 'MaxRetriesPerRequestError' });
    expect(isConnectionError(maxRetries)).toBe(true);
    expect(wasNotSent(maxRetries)).toBe(false);
  });

  it('ioredis: a Cluster with no reachable node and a commandTimeout are connection errors that do not prove the command unsent', () => {
    // ioredis' own classes and messages (test/review-connection-kinds.test.ts gets the last two from real servers).
    const down = [
      new ClusterAllFailedError('Failed to refresh slots cache.', new Error('connect ECONNREFUSED 127.0.0.1:7000')),
      new Error('None of startup nodes is available'),
      new AbortError('Cluster is ended.'),
      new Error('Command timed out'),
    ];
    for (const err of down) {
      expect(isConnectionError(err), err.message).toBe(true);
      // A timed-out command was written; "Cluster is ended." may end the failover retry of a written one.
      expect(wasNotSent(err), err.message).toBe(false);
    }
    // A Redis reply the server cannot serve now is an answer, not a lost connection.
    expect(isConnectionError(new Error('CLUSTERDOWN The cluster is down'))).toBe(false);
    expect(isConnectionError(new Error('LOADING Redis is loading the dataset in memory'))).toBe(false);
  });

  it('MongoDB driver errors, by class', () => {
    expect(isConnectionError(new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'))).toBe(true);
    expect(wasNotSent(new MongoNetworkError('connection closed'))).toBe(false);
    const selection = new MongoServerSelectionError('Server selection timed out', { type: 'Unknown', servers: new Map() } as unknown as TopologyDescription);
    expect(isConnectionError(selection)).toBe(true);
    expect(wasNotSent(selection)).toBe(true);
    expect(isConnectionError(new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 }))).toBe(false);
  });

  it('looks through causes, boundedly, and ignores application errors', () => {
    const wrapped = new Error('query failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') });
    expect(isConnectionError(wrapped)).toBe(true);
    const cyclic: Error & { cause?: unknown } = new Error('loop');
    cyclic.cause = cyclic;
    expect(isConnectionError(cyclic)).toBe(false);
    expect(isConnectionError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(isConnectionError('ECONNRESET')).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
});
