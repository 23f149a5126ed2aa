/**
 * Review finding: `mongo()` with a `tlsCAFile` (or `tlsCRLFile`, `tlsCertificateKeyFile`) the
 * driver cannot read failed `connect()` with Node's `ENOENT` before any network I/O, which the
 * handle answered as the retryable `CONNECTION_UNAVAILABLE` on every invocation. It is the
 * deployment's configuration: a terminal `CONFIG_INVALID` naming the option, without the path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { requireService } from '../../../test/services/env.js';

afterEach(async () => {
  await closeAll();
});

/** MONGODB_URI (the shared FerretDB) with TLS on and the given file options. */
function uriWith(params: Record<string, string>): string {
  const url = new URL(process.env.MONGODB_URI ?? '');
  url.searchParams.set('tls', 'true');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

describe('mongo() with a TLS file it cannot read', () => {
  it.each([
    ['tlsCAFile', { tlsCAFile: '/nonexistent/steadyfn-review-ca.pem' }],
    ['tlsCertificateKeyFile', { tlsCertificateKeyFile: '/nonexistent/steadyfn-review-key.pem' }],
  ] as const)('%s: a terminal CONFIG_INVALID naming the option, path not shown', async (option, params) => {
    await requireService('mongodb');
    const lines: string[] = [];
    let thrown: unknown;
    const store = mongo({ name: `review-mongo-tls-${option}`, uri: uriWith(params) });
    const main = handler({ use: [connections({ store }, { closeOnSigterm: false })], logSink: (line) => void lines.push(line) }, async () => 'ran');
    const outcome = await main.invoke({}).catch((e: unknown) => e);
    thrown = await store.get().catch((e: unknown) => e);
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(thrown).toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: option });
    expect((thrown as Error).message).toContain(`"${option}" (ENOENT)`);
    const text = lines.join('\n');
    expect(text).toMatch(/CONFIG_INVALID/);
    expect(text + (thrown as Error).message).not.toContain('/nonexistent/');
  });
});
