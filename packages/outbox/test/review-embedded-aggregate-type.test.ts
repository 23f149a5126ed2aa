/**
 * New-user trial finding: `mongoEmbeddedOutbox({ aggregateType })` took any non-empty string
 * (`'order/x'`, 65 characters); the bad name surfaced only later, in `outbox()`, as
 * `events.<Type>.aggregateType` — pointing at the declarations, not at the store option that was
 * wrong. The store now checks its own `aggregateType` against the same rule as the
 * declarations (1-64 characters of A-Z a-z 0-9 . _ -): `ConfigurationError` (`CONFIG_INVALID`,
 * field `aggregateType`).
 */
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { mongoEmbeddedOutbox } from '../src/index.js';

// Never connected: option checks run before any server is reached.
const mongo = new MongoClient('mongodb://127.0.0.1:1/');
const db = mongo.db('never_used');
afterAll(() => mongo.close());

describe('mongoEmbeddedOutbox(): aggregateType is checked by the store itself', () => {
  it.each([['order/x'], ['a'.repeat(65)], ['order x'], ['ördér']])('aggregateType %j is CONFIG_INVALID naming aggregateType', (aggregateType) => {
    expectOptionRefused(() => mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType, atomicity: 'server' }), 'mongoEmbeddedOutbox', 'aggregateType', ['1-64 characters']);
  });

  it('a valid name passes', () => {
    expect(() => mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order.v2_x-1', atomicity: 'server' })).not.toThrow();
  });
});
