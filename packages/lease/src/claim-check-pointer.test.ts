/**
 * The claim-check wire format both readers share (the outbox's inbox, backup's sqsSource): pure
 * logic, so no server. The readers' own tests (packages/outbox/src/sqs/claim-check.test.ts,
 * packages/backup/test/stream-sqs-claim-check.test.ts) prove the errors they make of it.
 */
import { describe, expect, it } from 'vitest';
import { claimCheckMismatch, decodeSqsBody, readClaimCheckPointer, sha256Hex } from './claim-check-pointer.js';

const bytes = Buffer.from('{"hello":"wörld"}', 'utf8');
const pointer = { bucket: 'b', key: 'claims/1', size: bytes.length, sha256: sha256Hex(bytes) };

describe('claim-check pointer', () => {
  it('reads a version-1 pointer from JSON text or a parsed object, keeping only its own fields', () => {
    expect(readClaimCheckPointer(JSON.stringify({ claimCheck: 1, ...pointer, extra: 'x' }))).toEqual({ ok: true, pointer });
    expect(readClaimCheckPointer({ claimCheck: 1, ...pointer })).toEqual({ ok: true, pointer });
  });

  it('tells text that is not JSON from a body of another shape', () => {
    expect(readClaimCheckPointer('{not json')).toEqual({ ok: false, problem: 'not-json' });
    for (const bad of [null, 7, [], { ...pointer }, { claimCheck: 2, ...pointer }, { claimCheck: 1, ...pointer, size: -1 }, { claimCheck: 1, ...pointer, size: 1.5 }, { claimCheck: 1, ...pointer, size: '3' }, { claimCheck: 1, ...pointer, sha256: 'A'.repeat(64) }, { claimCheck: 1, ...pointer, key: 3 }]) {
      expect(readClaimCheckPointer(bad)).toEqual({ ok: false, problem: 'shape' });
    }
  });

  it('verifies size first, then SHA-256', () => {
    expect(claimCheckMismatch(bytes, pointer)).toBeUndefined();
    expect(claimCheckMismatch(bytes.subarray(1), pointer)).toEqual({ problem: 'size', bytes: bytes.length - 1 });
    const flipped = Buffer.from(bytes);
    flipped[0] = flipped[0]! ^ 1;
    expect(claimCheckMismatch(flipped, pointer)).toEqual({ problem: 'sha256' });
  });

  it('decodes a base64 body only when it was sent so', () => {
    expect(decodeSqsBody(Buffer.from('a\u0000b').toString('base64'), 'base64')).toBe('a\u0000b');
    expect(decodeSqsBody('YQ==', undefined)).toBe('YQ==');
  });
});
