/**
 * Review finding: the database a MongoDB URI names (its path: `mongodb://host/shop`) was not
 * checked the way option `db` is (review-mongo-db-name.test.ts). A name MongoDB cannot have there
 * failed every invocation, retryably, for a setting no retry can fix: `/a.b` as
 * `CONNECTION_UNAVAILABLE` — the driver's `client.db()` threw after the connect, and the connected
 * `MongoClient` was never closed, so each invocation left one more client with its sockets
 * behind — and `/sh$op` as the `INTERNAL` of the function's first operation (the server refuses
 * the namespace). Both are the terminal `CONFIG_INVALID` now, naming `uri` without repeating it,
 * checked before anything connects. Against FerretDB behind a proxy that counts connections.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { requireService } from '../../../test/services/env.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

let proxy: FaultProxy;
beforeAll(async () => {
  await requireService('mongodb');
  proxy = await startProxy(Number(new URL(process.env.MONGODB_URI!).port));
});
afterAll(async () => {
  await proxy.close();
});
afterEach(closeAll);

/** Invokes a function that reads through `ctx.store` on `uri`; its answer or error code, and the log lines. */
async function invokeOn(uri: string, db?: string): Promise<{ outcome: unknown; lines: string[] }> {
  const store = mongo({ name: 'review-uri-db', uri, ...(db === undefined ? {} : { db }) });
  const lines: string[] = [];
  const main = handler({ use: [connections({ store }, { closeOnSigterm: false })], logSink: (line) => void lines.push(line) }, async (_input: unknown, ctx) => {
    await ctx.store.db.collection('review_uri_db').findOne({});
    return ctx.store.db.databaseName;
  });
  const outcome = await main.invoke({}).catch((err: unknown) => err);
  return { outcome, lines };
}

describe('mongo(): the database named in the URI', () => {
  it.each(['a.b', 'sh$op', 'my%20db', 'x'.repeat(64)])('/%s is a terminal CONFIG_INVALID naming uri, before any connection, the URI in no log', async (path) => {
    const uri = `mongodb://review-user:review-Pw-7@127.0.0.1:${proxy.port}/${path}?authSource=admin`;
    const before = proxy.accepted;
    for (let i = 0; i < 2; i++) {
      const { outcome, lines } = await invokeOn(uri);
      expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
      expect(lines.find((l) => l.includes('"msg":"invocation failed"'))).toContain('"field":"uri"');
      expect(lines.join('\n')).not.toContain('review-Pw-7');
    }
    expect(proxy.accepted).toBe(before);
  });

  it('a valid one is used; option db overrides an invalid one', async () => {
    await expect(invokeOn(`mongodb://127.0.0.1:${proxy.port}/review_uri_db`).then((r) => r.outcome)).resolves.toBe('review_uri_db');
    await expect(invokeOn(`mongodb://127.0.0.1:${proxy.port}/a.b`, 'review_uri_db2').then((r) => r.outcome)).resolves.toBe('review_uri_db2');
  });
});
