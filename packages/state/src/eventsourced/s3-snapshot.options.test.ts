import { describe, expect, it } from 'vitest';
import { s3Snapshot } from '../s3.js';

describe('s3Snapshot() options', () => {
  it.each([undefined, null, 'x'])('s3Snapshot(%s) is a ConfigurationError naming "options", not a TypeError', (options) => {
    let error: unknown;
    try {
      s3Snapshot(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'options', issues: [{ field: 'options', expected: 'an object { client, bucket, key, maxBytes?, optional?, decode? }' }] });
  });
});
