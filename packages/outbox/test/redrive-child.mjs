// A redrive process of test/redrive-processes.test.ts: opens the relay store the test names
// (REDRIVE_BACKEND: redis | cluster | ferretdb — see fault/backends.ts — or transaction, the
// transaction-mode store on FerretDB; REDRIVE_PREFIX, REDRIVE_DB), says `ready`, then for each
// line on stdin (a redrive reference as JSON) releases it as `redrive()` does — the store's
// redrive under the quarantine's lease (`releaseQuarantine`) — and answers the outcome.
// Runs the TypeScript sources: node --experimental-transform-types --conditions=steadyfn-source.
import '../../../test/support/register-ts.mjs';
import { createInterface } from 'node:readline';

const { REDRIVE_BACKEND: backend, REDRIVE_PREFIX: prefix, REDRIVE_DB: db } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const { releaseQuarantine } = await import('../src/relay/redrive.ts');
let store;
let lease;
let close;
if (backend === 'transaction') {
  const { MongoClient } = await import('mongodb');
  const { mongoLeaseStore } = await import('@steadyfn/lease');
  const { mongoTransactionOutbox } = await import('../src/stores/mongo-collection.ts');
  const client = await new MongoClient(process.env.MONGODB_URI).connect();
  store = mongoTransactionOutbox({ client, db: client.db(db) }).relay;
  lease = mongoLeaseStore({ collection: client.db(db).collection('leases') });
  close = () => client.close();
} else {
  const { relaySide } = await import('./fault/backends.ts');
  const side = await relaySide({ backend, prefix, db });
  store = side.store;
  lease = side.lease;
  close = () => side.close();
}
say({ ready: true });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  say({ outcome: await releaseQuarantine(store, lease, JSON.parse(line), { leaseMs: 10_000 }) });
}
await close();
