/**
 * The probe's "no verdict" (the lease collection dropped under each of its rounds) is typed: the
 * cause of its `LeaseStoreUnavailableError` carries `code: PROBE_NO_VERDICT`, which backup's
 * restore lock reads instead of the message. A fake collection (pure logic: the verdict's
 * reading) whose every insert lands and whose reads find nothing stored — what a drop between
 * the inserts leaves. The real race on FerretDB is review-probe-collection-dropped.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError } from '../errors.js';
import { PROBE_NO_VERDICT as FROM_INTERNAL } from '../internal.js';
import { PROBE_NO_VERDICT, ProbeNoVerdictError, probeServer } from './mongodb-probe.js';
import type { MongoLeaseCollection } from './mongodb-docs.js';

const droppedEveryRound: MongoLeaseCollection = {
  find: () => ({ toArray: async () => [] }),
  insertOne: async () => undefined,
  insertMany: async () => undefined,
  deleteMany: async () => undefined,
  createIndex: async () => undefined,
};

describe('the probe without a verdict', () => {
  it('is LEASE_STORE_UNAVAILABLE whose cause has code PROBE_NO_VERDICT, its message kept', async () => {
    const error = await probeServer(droppedEveryRound).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
    const cause = (error as LeaseStoreUnavailableError).cause;
    expect(cause).toBeInstanceOf(ProbeNoVerdictError);
    expect(cause).toMatchObject({ code: PROBE_NO_VERDICT, name: 'ProbeNoVerdictError' });
    expect((cause as Error).message).toMatch(/^the lease collection was dropped while each of 3 rounds of the start-up probe ran/);
    expect(FROM_INTERNAL).toBe('LEASE_PROBE_NO_VERDICT');
  });
});
