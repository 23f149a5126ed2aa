import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors.js';
import { intOption, mongoCollectionOption, msOption, oneOfOption, s3BucketOption, stringOption } from './options.js';

describe('option validators', () => {
  it('return the fallback for undefined and the value when valid', () => {
    expect(msOption('x', 'ttlMs', undefined, 500)).toBe(500);
    expect(msOption('x', 'ttlMs', 20, 500)).toBe(20);
    expect(intOption('x', 'max', 3, 1, 1, 10)).toBe(3);
    expect(oneOfOption('x', 'mode', 'b', ['a', 'b'] as const, 'a')).toBe('b');
    expect(stringOption('x', 'name', undefined, 'dflt')).toBe('dflt');
  });

  it('throw a terminal ConfigurationError naming the option, the expectation and the value', () => {
    let caught: unknown;
    try {
      msOption('idempotency', 'ttlMs', -1, 500);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const error = caught as ConfigurationError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.field).toBe('ttlMs');
    expect(error.message).toBe('idempotency(): option "ttlMs" must be a whole number of milliseconds ≥ 1; got -1');
    expect(error.issues).toEqual([{ field: 'ttlMs', message: error.message, expected: 'a whole number of milliseconds ≥ 1' }]);
    expect(() => msOption('x', 'ttlMs', '24h', 1)).toThrow(/got "24h"/);
    expect(() => intOption('x', 'max', 11, 1, 1, 10)).toThrow(/from 1 to 10; got 11/);
    expect(() => oneOfOption('x', 'mode', 'c', ['a', 'b'], 'a')).toThrow(/one of "a", "b"; got "c"/);
    expect(() => stringOption('x', 'name', '')).toThrow(/non-empty string; got ""/);
  });

  it('s3BucketOption: bucket names under the current rule; access point ARNs where the caller allows them', () => {
    // Access point, Multi-Region Access Point and S3 on Outposts ARNs, which AWS SDK v3 takes as
    // `Bucket` for PutObject/GetObject, were refused as "not a bucket name".
    const arns = [
      'arn:aws:s3:us-east-1:123456789012:accesspoint/claims',
      'arn:aws-cn:s3:cn-north-1:123456789012:accesspoint/claims-2',
      'arn:aws-us-gov:s3:us-gov-west-1:123456789012:accesspoint/abc',
      'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap',
      'arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/claims',
    ];
    const names = ['orders-large-events', 'a.b.c', 'abc', 'a'.repeat(63), 'logs--usw2-az1--x-s3', 'claims-abc123-s3alias'];
    for (const value of [...arns, ...names]) expect(s3BucketOption('o', 'bucket', value, { accessPoints: true }), value).toBe(value);
    for (const value of names) expect(s3BucketOption('o', 'bucket', value)).toBe(value);
    for (const value of arns) expect(() => s3BucketOption('o', 'bucket', value), value).toThrow(/must be an S3 bucket name: 3-63 characters/);
    const refused = [
      // Legacy us-east-1 names (capitals, _), and names that break the current rule.
      'Orders', 'my_bucket', 'ab', 'a'.repeat(64), 'orders..large', '-orders', 'orders.', '192.168.1.1', '', 42, undefined,
      // Not an ARN S3 routes object requests through: a bucket ARN, an unknown partition or
      // service, S3 Object Lambda, a region missing or given where it is not, a short account,
      // a bad access point name, an Outposts ARN without its outpost.
      'arn:aws:s3:::my-bucket', 'arn:aws-iso:s3:us-east-1:123456789012:accesspoint/claims', 'arn:aws:sqs:us-east-1:123456789012:accesspoint/claims',
      'arn:aws:s3-object-lambda:us-east-1:123456789012:accesspoint/claims', 'arn:aws:s3::123456789012:accesspoint/claims',
      'arn:aws:s3:us-east-1:123456789012:accesspoint/abc.mrap', 'arn:aws:s3:us-east-1:12345:accesspoint/claims', 'arn:aws:s3:us-east-1:123456789012:accesspoint/Claims_1',
      'arn:aws:s3:us-east-1:123456789012:accesspoint/claims/extra', 'arn:aws:s3-outposts:us-west-2:123456789012:accesspoint/claims',
    ];
    for (const value of refused) {
      expect(() => s3BucketOption('sqsSender', 'claimCheck.bucket', value, { accessPoints: true }), String(value)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', field: 'claimCheck.bucket', message: expect.stringMatching(/^sqsSender\(\): option "claimCheck\.bucket" must be an S3 bucket name: .*; or an S3 access point ARN/) }),
      );
    }
  });

  it('s3BucketOption with conditionalWrites (a lease): a Multi-Region Access Point is refused, saying why', () => {
    // An MRAP was accepted for the lease store: its buckets replicate asynchronously, each checks
    // If-None-Match / If-Match alone, so two holders could claim the same lease.
    const mrap = 'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap';
    expect(() => s3BucketOption('s3LeaseStore', 'bucket', mrap, { accessPoints: true, conditionalWrites: true })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'bucket', message: expect.stringMatching(/not a Multi-Region Access Point \(.*conditional write .* checked in one region only/) }),
    );
    for (const value of ['jobs', 'arn:aws:s3:us-east-1:123456789012:accesspoint/claims', 'arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/claims']) {
      expect(s3BucketOption('s3LeaseStore', 'bucket', value, { accessPoints: true, conditionalWrites: true }), value).toBe(value);
    }
    // Without conditionalWrites (the outbox's claim check) it stays accepted.
    expect(s3BucketOption('sqsSender', 'claimCheck.bucket', mrap, { accessPoints: true })).toBe(mrap);
    // A bad name's message lists only what this caller takes: no Multi-Region Access Point for a lease.
    let refused: unknown;
    try {
      s3BucketOption('s3LeaseStore', 'bucket', 'Bad_Name', { accessPoints: true, conditionalWrites: true });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', field: 'bucket' });
    expect((refused as Error).message).toMatch(/S3 access point ARN/);
    expect((refused as Error).message).not.toMatch(/Multi-Region/);
    expect(() => s3BucketOption('sqsSender', 'claimCheck.bucket', 'Bad_Name', { accessPoints: true })).toThrow(/Multi-Region Access Point arn:aws:s3::/);
  });

  it('mongoCollectionOption: the server\'s rule, no stricter', () => {
    // `orders.` and `a..b` were refused, though the server (MongoDB and FerretDB) takes them.
    for (const name of ['orders', 'shop.orders', 'orders.', 'a..b', 'o-1_x', 'systemx', 'a.system.b']) expect(mongoCollectionOption('o', 'collection', name), name).toBe(name);
    expect(mongoCollectionOption('o', 'collection', undefined, 'outbox')).toBe('outbox');
    for (const name of ['', '.orders', 'orders$x', '$cmd', 'oplog.$main', 'o\u0000x', 'system.orders', 'system.', 7, undefined]) {
      expect(() => mongoCollectionOption('o', 'collection', name), String(name)).toThrow(
        expect.objectContaining({ field: 'collection', message: expect.stringMatching(/^o\(\): option "collection" must be a MongoDB collection name: non-empty, without "\$" or NUL, not starting with "\." nor "system\."/) }),
      );
    }
  });
});
