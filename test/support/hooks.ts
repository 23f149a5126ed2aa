/**
 * Test hooks shared by the packages' tests: a resource opened before the tests of the enclosing
 * `describe` (or the file) and closed after them.
 */
import { afterAll, beforeAll } from 'vitest';

/**
 * Registers `beforeAll` (awaits `open()`) and `afterAll` (its `close()`) where it is called, and
 * returns an object that takes the opened resource's fields once `beforeAll` ran: read them
 * inside tests, not while the file is collected.
 *
 * @example const mongo = useOpened(openMongo); // it(...) { mongo.db.collection('c') }
 */
export function useOpened<T extends { close(): Promise<void> }>(open: () => Promise<T>): T {
  const resource = {} as T;
  beforeAll(async () => {
    Object.assign(resource, await open());
  });
  afterAll(async () => {
    await resource.close?.();
  });
  return resource;
}
