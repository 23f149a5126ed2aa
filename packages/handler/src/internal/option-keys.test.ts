import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors.js';
import { checkKnownKeys, keysOf } from './option-keys.js';
import { awsClientOption, serviceIdOf } from './aws-client.js';

interface Opts {
  store: unknown;
  ttlMs?: number;
  nested?: { leaseMs?: number };
}

function thrown(run: () => void): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('keysOf', () => {
  it('lists the keys of the record, which the compiler holds to the type', () => {
    expect(keysOf<Opts>({ store: true, ttlMs: true, nested: true })).toEqual(['store', 'ttlMs', 'nested']);
    // @ts-expect-error a key of the type is missing
    keysOf<Opts>({ store: true, ttlMs: true });
    // @ts-expect-error a key the type does not have
    keysOf<Opts>({ store: true, ttlMs: true, nested: true, extra: true });
  });
});

describe('checkKnownKeys', () => {
  const allowed = keysOf<Opts>({ store: true, ttlMs: true, nested: true });

  it('accepts known keys, unknown keys holding undefined, and non-objects', () => {
    expect(() => checkKnownKeys('f', '', { store: 1, ttlMs: 2, typo: undefined }, allowed)).not.toThrow();
    expect(() => checkKnownKeys('f', '', undefined, allowed)).not.toThrow();
    expect(() => checkKnownKeys('f', '', 'text', allowed)).not.toThrow();
  });

  it('refuses a pre-Ms name at the top level with the …Ms hint and the allowed keys', () => {
    const error = thrown(() => checkKnownKeys('f', '', { store: 1, ttl: 5 }, allowed));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'ttl', retryable: false });
    expect(error.message).toBe('f(): option "ttl" must be left out: it is not an option of f() (durations are in milliseconds: "ttlMs"); the options are store, ttlMs, nested; got 5');
  });

  it('never quotes a misnamed key\'s string (a connection string carries its password) and names the twin users swap', () => {
    const error = thrown(() => checkKnownKeys('mongo', '', { url: 'mongodb://admin:S3cretPw@db.example.com/app' }, ['uri', 'db']));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'url' });
    expect(error.message).not.toContain('S3cretPw');
    expect(error.message).toBe('mongo(): option "url" must be left out: it is not an option of mongo() (did you mean "uri"?); the options are uri, db; got a string (value not shown)');
  });

  it('names the full dotted path of a nested key', () => {
    const error = thrown(() => checkKnownKeys('f', 'a.nested', { leese: 1 }, ['leaseMs']));
    expect(error.field).toBe('a.nested.leese');
    expect(error.message).toBe('f(): option "a.nested.leese" must be left out: it is not an option of "a.nested"; the options are leaseMs; got 1');
  });
});

describe('awsClientOption', () => {
  const client = (serviceId?: string) => ({ send: async () => undefined, ...(serviceId === undefined ? {} : { config: { serviceId } }) });

  it('accepts the right service and a double that names none', () => {
    expect(serviceIdOf(client('S3'))).toBe('S3');
    expect(serviceIdOf({})).toBeUndefined();
    expect(() => awsClientOption('f', 's3', client('S3'), 'S3', 'an S3Client')).not.toThrow();
    expect(() => awsClientOption('f', 's3', client(), 'S3', 'an S3Client')).not.toThrow();
  });

  it('refuses the other service and a value without send', () => {
    const error = thrown(() => awsClientOption('f', 's3', client('SQS'), 'S3', 'an S3Client'));
    expect(error).toMatchObject({ field: 's3', code: 'CONFIG_INVALID' });
    expect(error.message).toContain('got a client for SQS');
    expect(thrown(() => awsClientOption('f', 'client', {}, 'SQS', 'an SQSClient')).field).toBe('client');
  });
});
