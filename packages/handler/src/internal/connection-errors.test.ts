/**
 * The shared connection-failure classifier against the drivers' own error classes and
 * messages: ioredis 6 (`ReplyError`, `MaxRetriesPerRequestError`, `ClusterAllFailedError` and the
 * plain `Error`s its `Redis.js`, `cluster/index.js` and `Command.js` reject commands with) and the
 * MongoDB driver's classes. The ioredis and mongodb packages are the workspace root's.
 */
import { createRequire } from 'node:module';
import { ReplyError } from 'ioredis';
import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
  MongoTopologyClosedError,
  type TopologyDescription,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { connectionFailure, CONNECTION_FAILURES, type ConnectionFailure } from './connection-errors.js';

const require = createRequire(import.meta.url);
// ioredis does not export these two from its root; they are what it rejects commands with.
type ErrorClass = new (...args: unknown[]) => Error;
const MaxRetriesPerRequestError = (require('ioredis/built/errors/MaxRetriesPerRequestError.js') as { default: ErrorClass }).default;
const ClusterAllFailedError = (require('ioredis/built/errors/ClusterAllFailedError.js') as { default: ErrorClass }).default;

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });
const reply = (message: string): Error => new (ReplyError as ErrorClass)(message);
const labelled = (error: MongoServerError, label: string): MongoServerError => {
  error.addErrorLabel(label);
  return error;
};

const table: Array<[string, unknown, ConnectionFailure | undefined]> = [
  // Socket errors, as Node raises them (with the errno code).
  ['connect ECONNREFUSED', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'), 'socket'],
  ['read ECONNRESET', withCode('read ECONNRESET', 'ECONNRESET'), 'socket'],
  ['write EPIPE', withCode('write EPIPE', 'EPIPE'), 'socket'],
  ['connect ETIMEDOUT', withCode('connect ETIMEDOUT', 'ETIMEDOUT'), 'socket'],
  ['getaddrinfo EAI_AGAIN', withCode('getaddrinfo EAI_AGAIN redis.internal', 'EAI_AGAIN'), 'socket'],
  ['socket hang up', new Error('socket hang up'), 'socket'],
  // MongoDB driver classes.
  ['MongoNetworkError', new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'), 'mongo-network'],
  ['MongoNetworkTimeoutError', new MongoNetworkTimeoutError('connection timed out'), 'mongo-network'],
  [
    'MongoServerSelectionError',
    new MongoServerSelectionError('Server selection timed out after 30000 ms', { type: 'Unknown', servers: new Map() } as unknown as TopologyDescription),
    'mongo-network',
  ],
  ['MongoTopologyClosedError', new MongoTopologyClosedError(), 'mongo-network'],
  ['MongoNotConnectedError', new MongoNotConnectedError('Client must be connected before running operations'), 'mongo-network'],
  // ioredis: the connection.
  ['Connection is closed.', new Error('Connection is closed.'), 'redis-connection'],
  ["Stream isn't writeable", new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'redis-connection'],
  ["Cluster isn't ready", new Error("Cluster isn't ready and enableOfflineQueue options is false"), 'redis-connection'],
  ['Too many Cluster redirections', new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down'), 'redis-connection'],
  ['MaxRetriesPerRequestError', new MaxRetriesPerRequestError(20), 'redis-connection'],
  // ioredis Cluster: no node at all, or ended.
  ['ClusterAllFailedError', new ClusterAllFailedError('Failed to refresh slots cache.', new Error('Connection is closed.')), 'redis-cluster-down'],
  ['None of startup nodes is available', new Error('None of startup nodes is available'), 'redis-cluster-down'],
  ['Cluster is ended.', new Error('Cluster is ended.'), 'redis-cluster-down'],
  ['Command timed out', new Error('Command timed out'), 'redis-timeout'],
  // Redis replies: the server cannot serve now.
  ['LOADING reply', reply('LOADING Redis is loading the dataset in memory'), 'redis-busy'],
  ['CLUSTERDOWN reply', reply('CLUSTERDOWN The cluster is down'), 'redis-busy'],
  ['MASTERDOWN reply', reply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no'), 'redis-busy'],
  ['TRYAGAIN reply', reply('TRYAGAIN Multiple keys request during rehashing of slot'), 'redis-busy'],
  // MongoDB replies: the server cannot serve now (the retryable-writes specification's codes).
  ['NotWritablePrimary', new MongoServerError({ message: 'not primary', code: 10107, codeName: 'NotWritablePrimary' }), 'mongo-busy'],
  ['PrimarySteppedDown', new MongoServerError({ message: 'primary stepped down', code: 189 }), 'mongo-busy'],
  ['InterruptedDueToReplStateChange', new MongoServerError({ message: 'operation was interrupted', code: 11602 }), 'mongo-busy'],
  ['ShutdownInProgress', new MongoServerError({ message: 'The server is in quiesce mode and will shut down', code: 91 }), 'mongo-busy'],
  ['InterruptedAtShutdown', new MongoServerError({ message: 'interrupted at shutdown', code: 11600 }), 'mongo-busy'],
  [
    'write concern error, primary stepped down',
    new MongoWriteConcernError({ writeConcernError: { code: 189, errmsg: 'primary stepped down while waiting for replication' } } as never),
    'mongo-busy',
  ],
  [
    'a RetryableWriteError label on another code',
    labelled(new MongoServerError({ message: 'transient', code: 262 }), 'RetryableWriteError'),
    'mongo-busy',
  ],
  // Through causes.
  ['wrapped ECONNRESET', new Error('query failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }), 'socket'],
  // Not connection failures: the server answered.
  ['WRONGTYPE reply', reply('WRONGTYPE Operation against a key holding the wrong kind of value'), undefined],
  ['NOSCRIPT reply', reply('NOSCRIPT No matching script. Please use EVAL.'), undefined],
  ['Lua error reply', reply('ERR user_script:1: Script attempted to access nonexistent global variable'), undefined],
  ['MOVED reply', reply('MOVED 3999 127.0.0.1:6381'), undefined],
  ['a reply naming LOADING mid-text', reply('ERR value LOADING is not allowed'), undefined],
  ['duplicate key', new MongoServerError({ message: 'E11000 duplicate key error collection: db.c index: _id_ dup key', code: 11000 }), undefined],
  ['ExceededTimeLimit (a time limit, not availability)', new MongoServerError({ message: 'operation exceeded time limit', code: 262 }), undefined],
  ['document validation failure', new MongoServerError({ message: 'Document failed validation', code: 121 }), undefined],
  ['a plain error with a busy code', Object.assign(new Error('not primary'), { code: 10107 }), undefined],
  ['an application error', new Error('order not found'), undefined],
  ['an abort', new DOMException('This operation was aborted', 'AbortError'), undefined],
  ['a string', 'ECONNRESET', undefined],
  ['undefined', undefined, undefined],
];

describe('connectionFailure', () => {
  it.each(table)('%s', (_label, error, kind) => {
    expect(connectionFailure(error)).toBe(kind);
  });

  it("the driver's PoolClearedOnNetworkError (a connection interrupted after a monitor timeout) is mongo-network", () => {
    // mongodb/lib/cmap/errors.js: not exported from the package root; built from a pool as the driver does.
    const { PoolClearedOnNetworkError } = require('mongodb/lib/cmap/errors.js') as { PoolClearedOnNetworkError: new (pool: unknown) => Error };
    const error = new PoolClearedOnNetworkError({ address: '127.0.0.1:27017', serverError: undefined });
    expect(error.name).toBe('PoolClearedOnNetworkError');
    expect(connectionFailure(error)).toBe('mongo-network');
  });

  it('counts only the kinds the caller names', () => {
    const loading = reply('LOADING Redis is loading the dataset in memory');
    expect(connectionFailure(loading, ['socket', 'mongo-network', 'redis-connection'])).toBeUndefined();
    expect(connectionFailure(loading, ['redis-busy'])).toBe('redis-busy');
    // A kind found deeper in the chain still counts when the nearer error's kind is not named.
    const wrapped = Object.assign(reply('CLUSTERDOWN The cluster is down'), { cause: withCode('read ECONNRESET', 'ECONNRESET') });
    expect(connectionFailure(wrapped, ['socket'])).toBe('socket');
    expect(CONNECTION_FAILURES).toHaveLength(7);
  });

  it('follows at most five causes, and a cycle ends', () => {
    let deep: Error = withCode('read ECONNRESET', 'ECONNRESET');
    for (let i = 0; i < 4; i++) deep = new Error(`wrap ${i}`, { cause: deep });
    expect(connectionFailure(deep)).toBe('socket');
    expect(connectionFailure(new Error('wrap 4', { cause: deep }))).toBeUndefined();
    const cyclic: Error & { cause?: unknown } = new Error('loop');
    cyclic.cause = cyclic;
    expect(connectionFailure(cyclic)).toBeUndefined();
  });
});
