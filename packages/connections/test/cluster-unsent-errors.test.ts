/**
 * Which errors of a `redisCluster()` Cluster prove a command unsent (`clusterNotReadyUnsent`), and
 * what the handle answers when a write repeated on that proof fails unsent again. Pure logic: the
 * errors are built as ioredis (5, 6.0.0) builds them; test/review-cluster-slow-handshake.test.ts
 * proves the real Cluster gives them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineClient, closeAll } from '../src/index.js';
import { ConnectionLostError } from '../src/errors.js';
import { ReplyLostError } from '../src/redis.js';
import { CONNECTION_CLOSED, clusterNotReadyUnsent } from '../src/clients/cluster-replies.js';
import { rejectionOf } from './support/cluster-proxy.js';

afterEach(() => closeAll());

/** ioredis' `Cluster#handleError` when the command's redirections ran out: "… Last error: " + String(last error). */
const tooMany = (last: Error): Error => new Error(`Too many Cluster redirections. Last error: ${String(last)}`);
const replyError = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });

describe('clusterNotReadyUnsent', () => {
  it.each([
    ['a bare "Connection is closed." (a connecting node connection, an offline queue flushed)', new Error(CONNECTION_CLOSED)],
    ['redirections spent, the last rejected by a connecting node connection', tooMany(new Error(CONNECTION_CLOSED))],
    ['redirections spent, the last a MOVED', tooMany(replyError('MOVED 3999 127.0.0.1:7001'))],
    ['redirections spent, the last an ASK', tooMany(replyError('ASK 3999 127.0.0.1:7001'))],
    ['redirections spent, the last a TRYAGAIN', tooMany(replyError('TRYAGAIN Multiple keys request during rehashing of slot'))],
    ['redirections spent, the last a CLUSTERDOWN', tooMany(replyError('CLUSTERDOWN The cluster is down'))],
    ["redirections spent, the last \"Cluster isn't ready\"", tooMany(new Error("Cluster isn't ready and enableOfflineQueue options is false"))],
    ["\"Cluster isn't ready\"", new Error("Cluster isn't ready and enableOfflineQueue options is false")],
  ])('unsent: %s', (_what, err) => {
    expect(clusterNotReadyUnsent(err)).toBe(true);
  });

  it.each([
    ['ReplyLostError (written, its reply lost)', new ReplyLostError(new Error(CONNECTION_CLOSED))],
    ['ReplyLostError wrapped by the handle', new ConnectionLostError('c', new ReplyLostError(new Error(CONNECTION_CLOSED)))],
    ['redirections spent, the last a ReplyLostError', tooMany(new ReplyLostError(new Error(CONNECTION_CLOSED)))],
    ['redirections spent, the last some other reply', tooMany(replyError('WRONGTYPE Operation against a key holding the wrong kind of value'))],
    ['a timeout', new Error('Command timed out')],
  ])('not proven unsent: %s', (_what, err) => {
    expect(clusterNotReadyUnsent(err)).toBe(false);
  });
});

describe('a single operation repeated because its error proved it unsent', () => {
  /** A client whose operations fail with `errors`, in turn; `unsent` marks an error proving its operation unsent. */
  function failing(name: string, ...errors: Error[]) {
    const handle = defineClient({
      name,
      create: () => ({}),
      close: () => undefined,
      isConnectionError: () => true,
      wasNotSent: (err) => (err as { unsent?: boolean }).unsent === true,
    });
    let calls = 0;
    const op = () => Promise.reject(errors[calls++]!);
    return { handle, op, calls: () => calls };
  }
  const unsent = (message: string) => Object.assign(new Error(message), { unsent: true });

  it('fails unsent again: CONNECTION_UNAVAILABLE — nothing was applied', async () => {
    const { handle, op, calls } = failing('unsent-twice', unsent('first'), unsent('second'));
    const err = await rejectionOf(handle.run(op, { single: true }));
    expect(calls()).toBe(2);
    expect(err).toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
  });

  it('fails without that proof the second time: CONNECTION_LOST — it may have been applied', async () => {
    const { handle, op, calls } = failing('unsent-then-lost', unsent('first'), new Error('second'));
    const err = await rejectionOf(handle.run(op, { single: true }));
    expect(calls()).toBe(2);
    expect(err).toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('a safe operation repeated after a loss that fails unsent: still CONNECTION_LOST (the first may have been applied)', async () => {
    const { handle, op, calls } = failing('safe-lost-then-unsent', new Error('first'), unsent('second'));
    const err = await rejectionOf(handle.run(op, { safe: true }));
    expect(calls()).toBe(2);
    expect(err).toMatchObject({ code: 'CONNECTION_LOST' });
  });
});
