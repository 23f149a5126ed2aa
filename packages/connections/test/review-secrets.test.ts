/**
 * Passwords in connection strings never reach a log line or the error an invocation fails
 * with (its causes included, as `util.inspect` prints them), whatever goes wrong: a URI the
 * driver refuses, an unreachable or unknown host, a password the server refuses. Each failure
 * keeps its documented code: terminal `CONFIG_INVALID` for a bad string, retryable
 * `CONNECTION_UNAVAILABLE` for the rest. Real servers: the shared FerretDB and Redis.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections, type ClientHandle } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis } from '../src/redis.js';
import { requireService } from '../../../test/services/env.js';

const SECRET = 'review-secret-Pw7';

afterEach(async () => {
  await closeAll();
});

async function failure(handle: ClientHandle<unknown>): Promise<{ error: unknown; logged: string }> {
  const lines: string[] = [];
  const main = handler({ use: [connections({ db: handle }, { closeOnSigterm: false })], logSink: (line) => void lines.push(line) }, () => 'unreachable');
  const error = await main.invoke({}).then(() => undefined, (e: unknown) => e);
  return { error, logged: lines.join('\n') };
}

describe('secrets in connection strings', () => {
  const mongoUri = (): string => {
    const url = new URL(process.env.MONGODB_URI!);
    return `mongodb://app:${SECRET}@${url.host}/`;
  };

  const cases: Array<[string, () => string, 'CONFIG_INVALID' | 'CONNECTION_UNAVAILABLE' | 'CONNECTION_AUTH_FAILED']> = [
    ['mongo: a port out of range', () => `mongodb://app:${SECRET}@127.0.0.1:99999/`, 'CONFIG_INVALID'],
    ['mongo: an unknown option value', () => `mongodb://app:${SECRET}@127.0.0.1:1/?authMechanism=NOPE`, 'CONFIG_INVALID'],
    ['mongo: an unescaped @', () => `mongodb://app:${SECRET}@@127.0.0.1:1/`, 'CONFIG_INVALID'],
    ['mongo: a closed port', () => `mongodb://app:${SECRET}@127.0.0.1:1/?serverSelectionTimeoutMS=300`, 'CONNECTION_UNAVAILABLE'],
    ['mongo: an unknown SRV host', () => `mongodb+srv://app:${SECRET}@nonexistent.invalid/`, 'CONNECTION_UNAVAILABLE'],
    // Terminal since the server's refusal (AuthenticationFailed, code 18) is typed: before, the retryable CONNECTION_UNAVAILABLE.
    ['mongo: a password the server refuses (FerretDB)', mongoUri, 'CONNECTION_AUTH_FAILED'],
  ];
  it.each(cases)('%s: the password in no log and no error', async (_label, uri, code) => {
    await requireService('mongodb');
    const { error, logged } = await failure(mongo({ uri: uri(), name: 'db' }) as ClientHandle<unknown>);
    expect(error).toMatchObject({ code, retryable: code === 'CONNECTION_UNAVAILABLE' });
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET);
    expect(logged).not.toContain(SECRET);
    expect(logged).toContain(code);
  });

  it.each([
    ['redis: a closed port', `redis://app:${SECRET}@127.0.0.1:1`, 'CONNECTION_UNAVAILABLE'],
    ['redis: an unknown host', `redis://app:${SECRET}@nonexistent.invalid:6379`, 'CONNECTION_UNAVAILABLE'],
    ['redis: a password in the query', `redis://127.0.0.1:1/?password=${SECRET}`, 'CONNECTION_UNAVAILABLE'],
  ] as const)('%s: the password in no log and no error', async (_label, url, code) => {
    const { error, logged } = await failure(redis({ url, name: 'db' }) as ClientHandle<unknown>);
    expect(error).toMatchObject({ code, retryable: true });
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET);
    expect(logged).not.toContain(SECRET);
  });
});
