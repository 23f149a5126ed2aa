/**
 * `configFromEnv`: a function's configuration from its environment with a zod schema. A
 * `.parse(process.env)` at module scope failed the instance's start with a raw ZodError (a JSON
 * dump of issues, "expected string, received undefined") that never said what a variable must
 * be; this names every variable at fault, unset or invalid, and what it must be — never its value.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError, configFromEnv, emptyAsUnset } from '../src/index.js';

const schema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
  QUEUE_URL: z.url(),
  BUCKET: z.string().min(3),
  PREFIX: z.string().regex(/^[a-z0-9-]{1,40}$/).default('shop'),
  GRACE_MS: z.coerce.number().int().nonnegative().default(5_000),
});

function refused(env: Record<string, string | undefined>): ConfigurationError {
  try {
    configFromEnv(schema, env);
  } catch (error) {
    return error as ConfigurationError;
  }
  throw new Error('not refused');
}

describe('configFromEnv', () => {
  it('returns the parsed configuration, defaults applied and numbers coerced', () => {
    expect(configFromEnv(schema, { REDIS_URL: 'redis://h:6379', QUEUE_URL: 'https://sqs/q', BUCKET: 'bkt', GRACE_MS: '10' })).toEqual({
      REDIS_URL: 'redis://h:6379',
      QUEUE_URL: 'https://sqs/q',
      BUCKET: 'bkt',
      PREFIX: 'shop',
      GRACE_MS: 10,
    });
  });

  it('names every unset variable and what a set one must be, as a terminal CONFIG_INVALID', () => {
    const error = refused({});
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, status: 500, field: 'REDIS_URL' });
    expect(error.message).toBe(
      'configuration refused: REDIS_URL is not set (expected a redis:// or rediss:// URL (string matching /^rediss?:\\/\\//)); ' +
        'QUEUE_URL is not set (expected string in url format); BUCKET is not set (expected string of at least 3 characters)',
    );
    expect(error.issues?.map((i) => i.field)).toEqual(['REDIS_URL', 'QUEUE_URL', 'BUCKET']);
  });

  it('says a set variable is invalid, and never quotes its value (a password in a URL)', () => {
    const secret = 'hunter2-s3cret';
    const error = refused({ REDIS_URL: `http://:${secret}@cache:6379`, QUEUE_URL: secret, BUCKET: 'bkt', GRACE_MS: `-${secret}` });
    expect(error.message).toContain('REDIS_URL is invalid (expected a redis:// or rediss:// URL');
    expect(error.message).toContain('QUEUE_URL is invalid (expected string in url format)');
    expect(error.message).toContain('GRACE_MS is invalid (expected number)');
    expect(JSON.stringify({ message: error.message, issues: error.issues, field: error.field })).not.toContain(secret);
  });

  it('refuses a schema that throws while reading a set variable as CONFIG_INVALID, never the raw error carrying the value', () => {
    // zod lets a transform's exception escape safeParse: TypeError ERR_INVALID_URL, `input` = the value.
    const secret = 'pw-hunter2';
    const cases: Array<[z.ZodType, string]> = [
      [z.object({ REDIS_URL: z.string().transform((s) => new URL(s)) }), 'TypeError'],
      [z.object({ REDIS_URL: z.string().transform((s) => JSON.parse(s) as unknown) }), 'SyntaxError'],
      [z.object({ REDIS_URL: z.string().refine(async () => true) }), '$ZodAsyncError'],
    ];
    for (const [throwing, name] of cases) {
      let caught: unknown;
      try {
        configFromEnv(throwing, { REDIS_URL: `http//:${secret}@cache` });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigurationError);
      const error = caught as ConfigurationError;
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: '(environment)' });
      expect(error.message).toBe(`configuration refused: the schema threw ${name} while reading the environment; its message is not shown`);
      expect(error.cause).toBeUndefined();
      expect(JSON.stringify(error) + error.message + String(error.stack)).not.toContain(secret);
    }
  });

  it('says an unset variable is not set when its schema throws on the empty value that describes it', () => {
    const throwing = z.object({ REDIS_URL: z.string().transform((s) => new URL(s)), SYNC: z.string().refine(async () => true) });
    expect(() => configFromEnv(throwing, {})).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'REDIS_URL', message: 'configuration refused: REDIS_URL is not set (expected string); SYNC is not set (expected string)' }),
    );
  });

  it('reads an empty variable as unset through emptyAsUnset, so its default applies instead of coerce turning it into 0', () => {
    const env = { REDIS_URL: 'redis://h:6379', QUEUE_URL: 'https://sqs/q', BUCKET: 'bkt', GRACE_MS: '' };
    expect(configFromEnv(schema, env).GRACE_MS).toBe(0); // zod's coerce: Number('') is 0
    expect(configFromEnv(schema, emptyAsUnset(env)).GRACE_MS).toBe(5_000);
    expect(refused(emptyAsUnset({ ...env, BUCKET: '' })).message).toBe('configuration refused: BUCKET is not set (expected string of at least 3 characters)');
    expect(emptyAsUnset({ A: '', B: 'b', C: undefined })).toEqual({ B: 'b', C: undefined });
  });

  it('refuses a schema that is not one', () => {
    expect(() => configFromEnv({} as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'schema' }));
  });
});
