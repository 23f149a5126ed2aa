/**
 * The lease's owner token names one claim attempt (`ClaimRequest.owner`): a Redis lease store
 * answers a claim that finds the key held by its own token and data as that claim's own resent
 * first run (`claimed: true`, the holder's fence). The outbox's two claim loops — the redrive's
 * lease on a quarantine (`releaseQuarantine`) and embedded mode's write lease on FerretDB
 * (`serialised`) — retried with the token of their first attempt; each attempt takes its own.
 * Shown on the in-process lease store (the loops' logic), its claims recorded: the key is held
 * by a rival with a short lease, so the loop claims more than once before it wins.
 */
import { randomUUID } from 'node:crypto';
import { memoryLeaseStore, type ClaimRequest, type LeaseStore } from '@steadyfn/lease';
import { describe, expect, it } from 'vitest';
import { serialised } from '../src/capture/mongo-embedded.js';
import { releaseQuarantine } from '../src/relay/redrive.js';
import type { RelayStore } from '../src/relay/types.js';

/** A memory lease store whose claims are recorded. */
function recording(): { lease: LeaseStore; claims: ClaimRequest[] } {
  const inner = memoryLeaseStore();
  const claims: ClaimRequest[] = [];
  const lease: LeaseStore = {
    ...inner,
    claim: (request, options) => {
      claims.push(request);
      return inner.claim(request, options);
    },
  };
  return { lease, claims };
}

/** Claims every attempt of the loop made on `key`: more than one, each with its own owner token. */
function expectOwnTokens(claims: ClaimRequest[], key: string): void {
  const attempts = claims.filter((c) => c.key === key && c.owner !== 'rival');
  expect(attempts.length).toBeGreaterThan(1);
  expect(new Set(attempts.map((c) => c.owner)).size).toBe(attempts.length);
}

describe('outbox lease loops: an owner token per claim attempt', () => {
  it('releaseQuarantine', async () => {
    const { lease, claims } = recording();
    const key = `relay:${randomUUID()}`;
    const store = { leaseKey: () => key, redrive: async () => 'redriven' as const } as unknown as RelayStore;
    const ref = { where: 'w', aggregate: 'a', fromSeq: 1, quarantinedAt: 1 } as unknown as Parameters<typeof releaseQuarantine>[2];
    const held = `${key}:redrive:1:1`;
    await lease.claim({ key: held, owner: 'rival', leaseMs: 60 });
    expect(await releaseQuarantine(store, lease, ref, { leaseMs: 10_000 })).toBe('redriven');
    expectOwnTokens(claims, held);
  });

  it('serialised (embedded mode write lease)', async () => {
    const { lease, claims } = recording();
    const key = `outbox-write:c:${randomUUID()}`;
    await lease.claim({ key, owner: 'rival', leaseMs: 60 });
    const out = await serialised({ mode: 'lease', lease: lease as never, leaseMs: 10_000, waitMs: 30_000 }, key, undefined, async () => 'written');
    expect(out).toBe('written');
    expectOwnTokens(claims, key);
  });
});
