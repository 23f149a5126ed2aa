// A redrive process of test/redrive-processes.test.ts: opens the relay store the test names
// (REDRIVE_BACKEND: redis | cluster | ferretdb — see fault/backends.ts — or transaction, the
// transaction-mode store on FerretDB; REDRIVE_PREFIX, REDRIVE_DB), says `ready`, then for each
// line on stdin (a redrive reference as JSON) calls the store's redrive and answers its outcome.
// Runs the TypeScript sources: node --experimental-transform-types --conditions=steadyfn-source.
import '../../../test/support/register-ts.mjs';
import { createInterface } from 'node:readline';

const { REDRIVE_BACKEND: backend, REDRIVE_PREFIX: prefix, REDRIVE_DB: db } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

let store;
let close;
if (backend === 'transaction') {
  const { MongoClient } = await import('mongodb');
  const { mongoTransactionOutbox } = await import('../src/stores/mongo-collection.ts');
  const client = await new MongoClient(process.env.MONGODB_URI).connect();
  store = mongoTransactionOutbox({ client, db: client.db(db) }).relay;
  close = () => client.close();
} else {
  const { relaySide } = await import('./fault/backends.ts');
  const side = await relaySide({ backend, prefix, db });
  store = side.store;
  close = () => side.close();
}
say({ ready: true });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  say({ outcome: await store.redrive(JSON.parse(line)) });
}
await close();
