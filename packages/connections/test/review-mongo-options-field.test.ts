/**
 * Review (D4): the MongoDB driver rejects some options in its constructor; `mongo()` reported
 * every such rejection as field `uri`, even `options: { maxPoolSize: -5 }` or a misspelled
 * `maxPoolSizee` with a correct URI — sending the operator to fix the wrong thing. The URI is
 * now parsed alone when the driver refuses: accepted, the error names `options`. No connection is
 * made (the constructor only parses), so no server is needed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MongoClientOptions } from 'mongodb';
import { closeAll } from '../src/index.js';
import { mongo } from '../src/mongodb.js';

afterEach(closeAll);

const URI = 'mongodb://u:mongo-secret-7@127.0.0.1:1/app';

async function failure(uri: string, options: MongoClientOptions | undefined): Promise<unknown> {
  return mongo({ uri, ...(options && { options }), connectTimeoutMs: 2_000 })
    .get()
    .then(
      () => undefined,
      (error: unknown) => error,
    );
}

describe('mongo(): options the driver rejects', () => {
  it.each([
    ['maxPoolSize: -5', { maxPoolSize: -5 }],
    ['a misspelled maxPoolSizee', { maxPoolSizee: 5 } as MongoClientOptions],
  ])('%s with a correct URI: CONFIG_INVALID naming options, not uri', async (_label, options) => {
    const error = await failure(URI, options);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, field: 'options' });
    expect((error as Error).message).not.toContain('mongo-secret-7');
  });

  it('a URI the driver rejects, with options: still field uri', async () => {
    expect(await failure('mongodb://127.0.0.1:1/?maxPoolSize=-1', { appName: 'x' })).toMatchObject({ code: 'CONFIG_INVALID', field: 'uri' });
  });

  it('a URI the driver rejects, without options: field uri', async () => {
    expect(await failure('mongodb://127.0.0.1:1/?maxPoolSize=-1', undefined)).toMatchObject({ code: 'CONFIG_INVALID', field: 'uri' });
  });
});
