/**
 * Pure classification of MongoDB driver errors, on the driver's real error classes (no server):
 * which client a direct operation's network error belongs to, Atlas' credential refusal, and a
 * thrown value that cannot be read.
 */
import { MongoClient, MongoServerError, MongoServerSelectionError, MongoNetworkError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { CONNECTION_AUTH_FAILED } from '../errors.js';
import { CLOSED_ERROR } from '../records.js';
import type { ClosedError } from '../closed.js';
import { mongoAuthRefused } from './auth-refused.js';
import { mongo, type MongoConnection } from './mongo.js';

const closedErrorOf = (handle: ReturnType<typeof mongo>) => (handle as unknown as { [CLOSED_ERROR]: ClosedError<MongoConnection> })[CLOSED_ERROR];

function connection(uri: string): MongoConnection {
  const client = new MongoClient(uri);
  return { client, db: client.db('test') };
}

function selectionError(...servers: string[]): MongoServerSelectionError {
  const reason = { servers: new Map(servers.map((s) => [s, { address: s }])) };
  return new MongoServerSelectionError('Server selection timed out after 1500 ms', reason as never);
}

describe('a direct operation\'s driver network error and the client that raised it', () => {
  const classify = closedErrorOf(mongo({ name: 'audit' }));
  const audit = connection('mongodb://10.0.0.2:27018/');

  it('names one of the client\'s servers: surely its own', () => {
    expect(classify(audit, selectionError('10.0.0.2:27018'))).toMatchObject({ sure: true, closed: false, error: { code: 'CONNECTION_UNAVAILABLE', client: 'audit' } });
    expect(classify(audit, new MongoNetworkError('connection 3 to 10.0.0.2:27018 closed'))).toMatchObject({ sure: true, error: { code: 'CONNECTION_LOST' } });
    const cleared = Object.assign(new MongoNetworkError('Connection pool for 10.0.0.2:27018 was cleared'), { address: '10.0.0.2:27018' });
    expect(classify(audit, cleared)).toMatchObject({ sure: true });
  });

  it('names another server (another handle, or a MongoClient of the function\'s own): not this client\'s', () => {
    expect(classify(audit, selectionError('10.0.0.1:27017'))).toBeUndefined();
    expect(classify(audit, new MongoNetworkError('connection 3 to 10.0.0.1:27017 timed out'))).toBeUndefined();
  });

  it('names no server (a reset): maybe this client\'s', () => {
    expect(classify(audit, new MongoNetworkError('read ECONNRESET'))).toMatchObject({ sure: false, error: { code: 'CONNECTION_LOST' } });
  });

  it('a connection\'s message names the IP its socket reached: with host names in the URI, maybe this client\'s (not someone else\'s)', () => {
    const local = connection('mongodb://localhost:27117/');
    expect(classify(local, new MongoNetworkError('connection 3 to 127.0.0.1:27117 closed'))).toMatchObject({ sure: false, error: { code: 'CONNECTION_LOST' } });
    expect(classify(local, new MongoNetworkError('connection 4 to [::1]:27117 timed out'))).toMatchObject({ sure: false, error: { code: 'CONNECTION_LOST' } });
    const atlas = connection('mongodb://shard-00-00.abcde.mongodb.net:27017,shard-00-01.abcde.mongodb.net:27017/?replicaSet=atlas');
    expect(classify(atlas, new MongoNetworkError('connection 7 to 52.1.2.3:27017 closed'))).toMatchObject({ sure: false });
    // A selection error or a pool's names the server by the client's own host name: still compared.
    expect(classify(local, selectionError('db.example:27017'))).toBeUndefined();
    expect(classify(local, new MongoNetworkError('connection 3 to localhost:27117 closed'))).toMatchObject({ sure: true });
  });

  it('a thrown value that cannot be read (a revoked Proxy) is left as it is, without a throw', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(classify(audit, proxy)).toBeUndefined();
  });
});

describe('MongoDB Atlas refusing the credentials', () => {
  it('code 8000 AtlasError "bad auth" is the terminal CONNECTION_AUTH_FAILED, logged without the message', () => {
    const err = new MongoServerError({ ok: 0, code: 8000, codeName: 'AtlasError', errmsg: 'bad auth : Authentication failed.' });
    const typed = mongoAuthRefused('uri', err);
    expect(typed).toMatchObject({ code: CONNECTION_AUTH_FAILED, field: 'uri', retryable: false, logFields: { refused: 'AtlasError bad auth' } });
    expect(typed?.message).not.toContain('bad auth :');
  });

  it('other Atlas errors (code 8000 without "bad auth") are not a refusal', () => {
    const err = new MongoServerError({ ok: 0, code: 8000, codeName: 'AtlasError', errmsg: 'you are over your space quota' });
    expect(mongoAuthRefused('uri', err)).toBeUndefined();
  });
});
