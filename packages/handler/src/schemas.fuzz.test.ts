/**
 * Fuzz: a trigger schema given mutated and arbitrary inputs (a plain call run as its trigger)
 * either hands the function a value of the declared shape or refuses it with a typed
 * `VALIDATION_FAILED` naming string fields — never another error, never a half-checked value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutate, mutation } from '../test/support/fuzz.js';
import { handler, type AuthorizerRequest, type StorageObject, type Trigger } from './index.js';
import { authorizerRequest, storageObject } from './schemas.js';

const isText = (v: unknown): v is string => typeof v === 'string';
const isTextMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isText);
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);

function isStorageObject(v: StorageObject): boolean {
  return (
    ['created', 'deleted', 'updated'].includes(v.op) &&
    isText(v.bucket) && v.bucket !== '' &&
    isText(v.key) && v.key !== '' &&
    optional(v.size, (n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
    [v.etag, v.contentType, v.versionId, v.time].every((t) => optional(t, isText))
  );
}

function isAuthorizerRequest(v: AuthorizerRequest): boolean {
  return (
    ['TOKEN', 'REQUEST'].includes(v.type) &&
    isText(v.resource) && v.resource !== '' &&
    [v.token, v.method, v.path].every((t) => optional(t, isText)) &&
    optional(v.identitySource, (l) => Array.isArray(l) && l.every(isText)) &&
    [v.headers, v.query, v.pathParameters, v.stageVariables].every(isTextMap)
  );
}

const cases = [
  {
    name: 'storageObject()',
    main: (seen: unknown[]) => handler({ input: storageObject(), logSink: () => undefined }, (upload) => void seen.push(upload)),
    check: (v: unknown) => isStorageObject(v as StorageObject),
    sample: { op: 'created', bucket: 'photos', key: 'a/b.jpg', size: 10, etag: 'e', contentType: 'image/jpeg', versionId: 'v', time: '2025-03-14T10:02:11Z' },
    trigger: { kind: 'storage', source: 's3', op: 'created', eventType: 'ObjectCreated:Put', bucket: 'photos', key: 'a/b.jpg', batchIndex: 0, batchSize: 1 } as Trigger,
  },
  {
    name: 'authorizerRequest()',
    main: (seen: unknown[]) => handler({ input: authorizerRequest(), logSink: () => undefined }, (req) => void seen.push(req)),
    check: (v: unknown) => isAuthorizerRequest(v as AuthorizerRequest),
    sample: { type: 'REQUEST', resource: 'arn:x', token: 't', identitySource: ['k'], method: 'GET', path: '/', headers: { a: 'b' }, query: { q: '1' }, multiQuery: { q: ['1'] }, pathParameters: {}, stageVariables: { s: 'v' } },
    trigger: { kind: 'authorizer', source: 'apigw-request', resource: 'arn:x' } as Trigger,
  },
];

describe.each(cases)('$name under fuzzed input', ({ main, check, sample, trigger }) => {
  async function expectValidOrRefused(value: unknown): Promise<void> {
    const seen: unknown[] = [];
    try {
      await main(seen).invoke(value, { trigger });
      expect(seen).toHaveLength(1);
      expect(check(seen[0])).toBe(true);
    } catch (thrown) {
      const e = thrown as { code?: unknown; errors?: Array<{ field: unknown; message: unknown }> };
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(seen).toEqual([]);
      expect(e.errors?.length).toBeGreaterThan(0);
      for (const issue of e.errors ?? []) expect([typeof issue.field, typeof issue.message]).toEqual(['string', 'string']);
    }
  }

  it('one to three mutations of a valid input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(sample), { minLength: 1, maxLength: 3 }), async (changes) => {
        await expectValidOrRefused(changes.reduce<unknown>((doc, m) => mutate(doc, m.path, m.replacement, m.remove), sample));
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary values', async () => {
    await fc.assert(fc.asyncProperty(fc.anything(), expectValidOrRefused), { numRuns: 300 });
  });
});
