/**
 * Review: another plugin's `beforeBatch` that throws fails every message of the batch with its
 * error, and each message's `onError` still runs — the idempotency plugin's too, whose own
 * `beforeBatch` (before it in `use`) had already claimed every message. With `cacheErrors: true`
 * (the error terminal) or a permissive function (`() => true`), that failure — not the
 * function's, which never ran: a bad option, a store down — was stored as each message's
 * completed record, and every redelivery for `ttlMs` replayed it instead of running. A message
 * whose `before` never ran is now released whatever `cacheErrors` says, so its redelivery runs
 * it (as an invocation alone, claimed in `before` after every earlier failure point). On Redis,
 * Redis Cluster and FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { TerminalError, handler, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

type Failures = { batchItemFailures: Array<{ itemIdentifier: string }> };

describe.each(BACKENDS)('review: a failure of another plugin’s beforeBatch is never stored (%s)', (name) => {
  const backend = useBackend(name);

  const cases: Array<[string, IdempotencyOptions['cacheErrors']]> = [
    ['cacheErrors: true', true],
    ['cacheErrors: () => true', () => true],
  ];
  it.each(cases)('%s: the redelivery runs every message instead of replaying the plugin’s failure', async (_label, cacheErrors) => {
    let broken = true;
    // A plugin whose batch hook fails once: a bad option, terminal (the same on every retry until fixed).
    const flaky: Plugin = {
      name: 'flaky',
      beforeBatch: () => {
        if (broken) throw new TerminalError('PLUGIN_MISCONFIGURED', 'the plugin is misconfigured');
      },
    };
    const fn = `batch-${randomUUID()}`;
    const ran: string[] = [];
    const main = handler(
      { name: fn, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, cacheErrors }), flaky] },
      (input: unknown) => {
        const { n } = input as { n: number };
        ran.push(String(n));
        return { done: n };
      },
    );
    const ids = [randomUUID(), randomUUID()];
    const event = { Records: ids.map((id, n) => sqsRecord(id, { n })) };
    const first = (await main.aws(event, lambdaContext())) as Failures;
    expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([...ids].sort());
    expect(ran).toEqual([]);
    // The records were given back, not completed with the plugin's failure.
    for (const id of ids) expect(await backend.store.get(storeKey(scopeOf(fn), { kind: 'delivery', value: id }))).toBeUndefined();
    broken = false;
    const again = (await main.aws(event, lambdaContext())) as Failures;
    expect(again).toEqual({ batchItemFailures: [] });
    expect(ran.sort()).toEqual(['0', '1']);
  });
});
