import { describe, expect, it } from 'vitest';
import { MongoNetworkError, MongoServerSelectionError, MongoServerError, TopologyDescription } from 'mongodb';
import { isConnectionError, wasNotSent } from './errors.js';

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
