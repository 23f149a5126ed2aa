/**
 * Review finding: `mongo()` with `authMechanism=MONGODB-AWS` when the optional
 * `@aws-sdk/credential-providers` is not installed (it is not in this workspace: the driver's real
 * `MongoAWSError` "Optional module … not found", from `connect()`) was a retryable
 * `CONNECTION_UNAVAILABLE` on every invocation. Installing the package is the only fix: a terminal
 * `CONNECTION_DRIVER_MISSING` naming it.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { requireService } from '../../../test/services/env.js';

afterEach(async () => {
  await closeAll();
});

/** Whether the driver would find the optional package (then this case cannot be shown here). */
function credentialProvidersInstalled(): boolean {
  try {
    createRequire(createRequire(import.meta.url).resolve('mongodb')).resolve('@aws-sdk/credential-providers');
    return true;
  } catch {
    return false;
  }
}

describe('mongo() with MONGODB-AWS and no @aws-sdk/credential-providers', () => {
  it.skipIf(credentialProvidersInstalled())('is a terminal CONNECTION_DRIVER_MISSING naming the package (skipped when the package is installed: nothing is missing)', async () => {
    await requireService('mongodb');
    const url = new URL(process.env.MONGODB_URI ?? '');
    url.searchParams.set('authMechanism', 'MONGODB-AWS');
    const store = mongo({ name: 'review-mongo-aws-auth', uri: url.toString() });
    const lines: string[] = [];
    const main = handler({ use: [connections({ store }, { closeOnSigterm: false })], logSink: (line) => void lines.push(line) }, async () => 'ran');
    const outcome = await main.invoke({}).catch((e: unknown) => e);
    const thrown = await store.get().catch((e: unknown) => e);
    expect(outcome).toMatchObject({ code: 'CONNECTION_DRIVER_MISSING', retryable: false });
    expect(thrown).toMatchObject({ name: 'ConfigurationError', code: 'CONNECTION_DRIVER_MISSING', field: 'driver' });
    expect((thrown as Error).message).toContain('"@aws-sdk/credential-providers"');
    expect(lines.join('\n')).not.toMatch(/\s+at .*\.js:\d+/);
  });
});
