/**
 * Stand-ins for the option-check tests: a storage client and a database that fail the test if
 * anything is sent or read, so every check must happen before any I/O, and `configError`, which
 * expects a `ConfigurationError` (`CONFIG_INVALID`) and returns it for its field to be checked.
 */
import { ConfigurationError } from '@steadyfn/handler';
import { expect } from 'vitest';

/** A client that fails the test if anything is sent: every check must happen first. */
export const client = {
  send: async () => {
    throw new Error('nothing may be sent before the options are checked');
  },
};
export const storage = { client, bucket: 'backups' };
export const db = { databaseName: 'x', collection: () => ({}), command: async () => ({}), listCollections: () => ({ toArray: async () => [] }) };

/** The `ConfigurationError` that `work` throws (or rejects with); fails the test otherwise. */
export async function configError(work: () => unknown): Promise<ConfigurationError> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
    return error as ConfigurationError;
  }
  throw new Error('no ConfigurationError');
}
