/**
 * Review follow-up: `s3Json()` and `s3Ndjson()` checked `client`, `bucket` and `key` through
 * `s3Object()` (as did `s3Snapshot()`), so their `ConfigurationError` began `s3Object(): option "bucket" …` — a
 * function the caller never called. Each now names itself; the field and code are unchanged.
 * Offline: option checks only, nothing is sent.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { s3Json, s3Ndjson, s3Object, s3Snapshot } from '../src/s3.js';

const client = { send: async () => ({}), config: { serviceId: 'S3' } } as never;
const thrown = (fn: () => unknown): ConfigurationError => {
  try {
    fn();
  } catch (error) {
    return error as ConfigurationError;
  }
  throw new Error('no error');
};

describe('S3 source option errors name the function called', () => {
  it.each([
    ['s3Json', (o: never) => s3Json(o)],
    ['s3Ndjson', (o: never) => s3Ndjson(o)],
    ['s3Snapshot', (o: never) => s3Snapshot(o)],
    ['s3Object', (o: never) => s3Object({ ...(o as object), decode: (t: string) => t } as never)],
  ] as const)('%s', (name, make) => {
    for (const [options, field] of [
      [{ bucket: 'b', key: 'k' }, 'client'],
      [{ client, bucket: '', key: 'k' }, 'bucket'],
      [{ client, bucket: 'b', key: 7 }, 'key'],
    ] as const) {
      const error = thrown(() => make(options as never));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.field).toBe(field);
      expect(error.message.startsWith(`${name}(): option "${field}"`)).toBe(true);
    }
  });
});
