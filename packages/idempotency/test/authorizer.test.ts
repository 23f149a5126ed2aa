/**
 * An API Gateway Lambda authorizer behind `idempotency()` (a shared `use` list, say). The
 * authorizer event has no delivery id, so `'auto'` keyed it by the request: the second call
 * with the same token got the stored Allow back as plain JSON, which the authorizer answer
 * cannot be rendered from — AUTHORIZER_RESULT_INVALID, a 500 for every later request — and, had
 * it rendered, a revoked token would have stayed allowed for `ttlMs` (the same under
 * `key: 'input'`). Authorizers now run without a record, whatever the key source. Through the real Lambda adapter with the published TOKEN event.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allow, deny, handler } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { BACKENDS, counting, lambdaContext, silentSink, useBackend } from './support.js';

const tokenEvent = JSON.parse(readFileSync(new URL('../../handler/test/fixtures/aws/published/authorizer-token.json', import.meta.url), 'utf8')) as Record<string, any>;
const effectOf = (answer: unknown): unknown => (answer as { policyDocument: { Statement: Array<{ Effect: string }> } }).policyDocument.Statement[0]!.Effect;

describe.each(BACKENDS)('a Lambda authorizer on %s', (name) => {
  const backend = useBackend(name);

  it.each(['auto', 'input'] as const)("key: '%s' — decides every request again: the same token twice, then revoked", async (key) => {
    const store = counting(backend.store);
    const revoked = new Set<string>();
    const main = handler({ name: `auth-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store, key, ttlMs: 86_400_000, localCache: false })] }, (input) => {
      const { token } = input as { token?: string };
      return token !== undefined && !revoked.has(token) ? allow('user-1') : deny('user-1');
    });
    expect(effectOf(await main.aws(tokenEvent, lambdaContext()))).toBe('Allow');
    expect(effectOf(await main.aws(tokenEvent, lambdaContext()))).toBe('Allow');
    revoked.add(tokenEvent.authorizationToken as string);
    expect(effectOf(await main.aws(tokenEvent, lambdaContext()))).toBe('Deny');
    expect(store.total()).toBe(0);
  });
});
