/** errors.ts — `targetErrorOf`: which driver errors met before a restore's first write are retryable, which terminal (pure classification; the real servers' errors are in test/restore-target-errors.test.ts). */
import { describe, expect, it } from 'vitest';
import { RestoreApplyError, RestoreTargetRefusedError, RestoreTargetUnavailableError, SourceReadError, SourceRefusedError, sourceErrorOf, targetErrorOf } from './errors.js';

function driverError(name: string, message: string, fields: Record<string, unknown> = {}): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, fields);
}

describe('targetErrorOf', () => {
  it.each([
    ['MongoDB AuthenticationFailed', driverError('MongoServerError', 'auth failed for user bob', { code: 18 }), RestoreTargetRefusedError],
    ['MongoDB Unauthorized', driverError('MongoServerError', 'not authorized', { code: 13 }), RestoreTargetRefusedError],
    ['another MongoDB command error', driverError('MongoServerError', 'no such command', { code: 59 }), RestoreTargetRefusedError],
    ['MongoDB ShutdownInProgress', driverError('MongoServerError', 'shutting down', { code: 91 }), RestoreTargetUnavailableError],
    ['MongoDB NotWritablePrimary', driverError('MongoServerError', 'not primary', { code: 10107 }), RestoreTargetUnavailableError],
    ['no server selected', driverError('MongoServerSelectionError', 'connect ECONNREFUSED 10.0.0.1:27017'), RestoreTargetUnavailableError],
    ['a network error', driverError('MongoNetworkError', 'connection reset'), RestoreTargetUnavailableError],
    ['Redis WRONGPASS', driverError('ReplyError', 'WRONGPASS invalid username-password pair'), RestoreTargetRefusedError],
    ['Redis NOPERM', driverError('ReplyError', "NOPERM this user has no permissions to run the 'info' command"), RestoreTargetRefusedError],
    ['Redis LOADING', driverError('ReplyError', 'LOADING Redis is loading the dataset in memory'), RestoreTargetUnavailableError],
    ['a refused socket', driverError('Error', 'connect ECONNREFUSED 10.0.0.1:6379', { code: 'ECONNREFUSED' }), RestoreTargetUnavailableError],
  ])('%s', (_what, error, expected) => {
    const typed = targetErrorOf(error, 'restore') as Error;
    expect(typed).toBeInstanceOf(expected);
    expect(typed.message).not.toMatch(/10\.0\.0\.1|bob|username-password|loading the dataset|permissions to run/);
  });

  it('passes typed errors unchanged', () => {
    const typed = new RestoreApplyError('x');
    expect(targetErrorOf(typed, 'restore')).toBe(typed);
  });
});

describe('sourceErrorOf (pure classification; the real servers\' errors are in test/review-source-refused.test.ts)', () => {
  it.each([
    ['MongoDB AuthenticationFailed', driverError('MongoServerError', 'auth failed for user bob', { code: 18 }), SourceRefusedError, '18'],
    ['MongoDB Unauthorized', driverError('MongoServerError', 'not authorized on shop', { code: 13 }), SourceRefusedError, '13'],
    ['Redis WRONGPASS', driverError('ReplyError', 'WRONGPASS invalid username-password pair'), SourceRefusedError, 'WRONGPASS'],
    ['Redis NOAUTH', driverError('ReplyError', 'NOAUTH Authentication required.'), SourceRefusedError, 'NOAUTH'],
    ['Redis NOPERM', driverError('ReplyError', "NOPERM this user has no permissions to run the 'scan' command"), SourceRefusedError, 'NOPERM'],
    ['another MongoDB command error', driverError('MongoServerError', 'cursor not found', { code: 43 }), SourceReadError, '43'],
    ['no server selected', driverError('MongoServerSelectionError', 'connect ECONNREFUSED 10.0.0.1:27017'), SourceReadError, 'MongoServerSelectionError'],
    ['Redis LOADING', driverError('ReplyError', 'LOADING Redis is loading the dataset in memory'), SourceReadError, 'ReplyError'],
  ])('%s', (_what, error, expected, code) => {
    const typed = sourceErrorOf(error, 'reading the source');
    expect(typed).toBeInstanceOf(expected);
    expect(typed.retryable).toBe(expected === SourceReadError);
    expect(typed.message).toContain(code);
    expect(typed.message).not.toMatch(/10\.0\.0\.1|bob|username-password|loading the dataset|permissions to run|on shop|Authentication required/);
  });
});
