/**
 * A claim-check prefix holding a lone surrogate (U+D800–U+DFFF unpaired) has no UTF-8 encoding,
 * so it names no S3 key: refused at options time (`CONFIG_INVALID`, field `prefix` or
 * `claimCheck.prefix`, never quoting it), by `s3ClaimCheck()` and by `sqsSender()` for a claim
 * check made by hand. Before, it was accepted. Checked against a reference written the plain way
 * (code unit by code unit). Pure: clients are made, never used.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { s3ClaimCheck } from '../s3.js';
import { MAX_CLAIM_CHECK_PREFIX_BYTES } from './claim-check.js';
import { sqsSender } from './sender.js';

const s3 = new S3Client({ region: 'us-east-1' });
const sqs = new SQSClient({ region: 'us-east-1' });
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';
const EXPECTED = 'a well-formed string: no lone surrogate (S3 object keys are UTF-8)';

/** Reference: a high surrogate not followed by a low one, or a low one not preceded by a high one. */
function loneSurrogateAt(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
    if (high && next >= 0xdc00 && next <= 0xdfff) i++;
    else if (high || low) return true;
  }
  return false;
}

function refusal(fn: () => unknown): { code?: string; field?: string; message: string; issues?: unknown } | undefined {
  try {
    fn();
  } catch (error) {
    return error as never;
  }
  return undefined;
}

/** Short strings of any UTF-16 code units, lone surrogates often among them. */
const units = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 40 }).map((codes) => String.fromCharCode(...codes));
/** A lone surrogate set into well-formed text at any place. */
const withLone = fc
  .tuple(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ unit: 'grapheme', maxLength: 20 }))
  .map(([before, lone, after]) => `${before}${String.fromCharCode(lone)}${after}`)
  .filter(loneSurrogateAt);

describe('a claim-check prefix with a lone surrogate is refused', () => {
  it('s3ClaimCheck(): refused exactly when the reference finds a lone surrogate (within the byte limit)', () => {
    fc.assert(
      fc.property(fc.oneof(units, withLone), (prefix) => {
        const error = refusal(() => s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix }));
        if (loneSurrogateAt(prefix)) {
          expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'prefix', issues: [{ field: 'prefix', expected: EXPECTED }] });
          expect(error!.message).not.toContain(prefix);
        } else {
          expect(Buffer.byteLength(prefix)).toBeLessThanOrEqual(MAX_CLAIM_CHECK_PREFIX_BYTES);
          expect(error).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('sqsSender(): a claim check made by hand with such a prefix is refused naming "claimCheck.prefix"', () => {
    fc.assert(
      fc.property(withLone, (prefix) => {
        const claimCheck = { ...s3ClaimCheck({ s3, bucket: 'claims-bucket' }), prefix };
        expect(refusal(() => sqsSender({ client: sqs, queueUrl, claimCheck }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'claimCheck.prefix' });
      }),
      { numRuns: 100 },
    );
  });

  it('a surrogate pair (an emoji) is well-formed and kept', () => {
    expect(s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix: 'claims/😀/' }).prefix).toBe('claims/😀/');
    expect(refusal(() => s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix: 'claims/\ud83d/' }))).toMatchObject({ field: 'prefix' });
    expect(refusal(() => s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix: 'claims/\ude00' }))).toMatchObject({ field: 'prefix' });
  });
});
