import { describe, expect, it } from 'vitest';
import { boundedRetryStrategy, detectPlatform, profileFor, reconnectOnReadonly } from './profiles.js';

describe('detectPlatform', () => {
  it('reads the variables each runtime sets', () => {
    expect(detectPlatform({ AWS_LAMBDA_FUNCTION_NAME: 'f' })).toBe('aws');
    expect(detectPlatform({ K_SERVICE: 'f' })).toBe('gcp');
    expect(detectPlatform({ FUNCTION_TARGET: 'main' })).toBe('gcp');
    expect(detectPlatform({ FUNCTIONS_WORKER_RUNTIME: 'node' })).toBe('azure');
    expect(detectPlatform({ __OW_ACTION_NAME: '/ns/a' })).toBe('openwhisk');
    expect(detectPlatform({})).toBe('direct');
  });
});

describe('profileFor', () => {
  it('MongoDB: small pool, idle connections closed, polling monitor', () => {
    const aws = profileFor('aws').mongo;
    expect(aws).toMatchObject({ maxPoolSize: 3, minPoolSize: 0, maxIdleTimeMS: 60_000, serverMonitoringMode: 'poll' });
    expect(profileFor('gcp').mongo.maxPoolSize).toBeGreaterThan(aws.maxPoolSize);
  });

  it('ioredis: no offline queue, no blind resend, bounded reconnects', () => {
    const redis = profileFor('aws').redis;
    expect(redis).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
    expect([1, 2, 3, 4].map(boundedRetryStrategy)).toEqual([50, 100, 200, 400]);
    expect(boundedRetryStrategy(5)).toBeNull();
  });

  it('reconnects and resends only on READONLY (the server refused the write)', () => {
    expect(reconnectOnReadonly(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnectOnReadonly(new Error('ERR something else'))).toBe(false);
  });
});
