/**
 * Review: `mongoDocument({ versionField: 'version', projection: { version: 0, secret: 0 } })` —
 * an exclusion projection that drops the version field. The load then kept `null` as the
 * version while the revalidation read the real one: they never matched, so every stale state
 * cost a revalidation *and* a full reload, and gave a new state object each time, without a
 * word. Such a projection is refused when the source is defined (as is one that drops a parent
 * of the version field).
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoDocument } from '../src/index.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';

const mongo = new MongoClient('mongodb://127.0.0.1:1/x');
const target = { client: mongo, collection: 'settings', filter: { _id: 'checkout' } };

describe('mongoDocument(): a projection that drops the version field', () => {
  it('is refused, naming the projection entry', () => {
    expectOptionRefused(() => mongoDocument({ ...target, versionField: 'version', projection: { version: 0, secret: 0 } }), 'mongoDocument', 'projection.version');
    expectOptionRefused(() => mongoDocument({ ...target, versionField: 'meta.v', projection: { meta: false } }), 'mongoDocument', 'projection.meta');
  });

  it('other exclusions, and inclusion projections (the version field is added), are taken', () => {
    expect(() => mongoDocument({ ...target, versionField: 'version', projection: { secret: 0 } })).not.toThrow();
    expect(() => mongoDocument({ ...target, versionField: 'version', projection: { name: 1 } })).not.toThrow();
    expect(() => mongoDocument({ ...target, versionField: 'meta.v', projection: { 'meta.notes': 0 } })).not.toThrow();
  });
});
