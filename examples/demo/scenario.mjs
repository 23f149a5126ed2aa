// One provider's run of the orders scenario (`node scenario.mjs <provider>`, started by
// run.mjs): the provider's example loaded from examples/<provider>/ and called the way that
// provider calls it, against the local services. Prints one JSON line: each step's outcome
// and what it cost in store calls.
import './resolve.mjs';
import { counts, since } from './instrument.mjs';
import { openStores } from './stores.mjs';

const PROVIDERS = ['aws-lambda', 'gcp-functions', 'azure-functions', 'openwhisk'];
const provider = process.argv[2];
if (!PROVIDERS.includes(provider)) throw new Error(`usage: node scenario.mjs <${PROVIDERS.join('|')}>`);

const ORDER = { customerId: 'c-1', items: [{ sku: 'tea-42', qty: 2 }, { sku: 'mug-7', qty: 1 }] };
const stores = await openStores(provider.split('-')[0]);
const steps = [];
/** Runs one step, recording its duration and the store calls made during it. */
async function step(name, work) {
  const before = { ...counts };
  const started = performance.now();
  const outcome = await work();
  steps.push({ name, ms: Math.round(performance.now() - started), ...since(before), ...outcome });
  return outcome;
}

let deployment;
try {
  if (provider !== 'openwhisk') Object.assign(process.env, stores.env); // the functions' configuration
  const adapter = await import(`./providers/${provider}.mjs`);
  deployment = await adapter.open(stores);
  const key = `demo-${crypto.randomUUID()}`;

  const created = await step('create', async () => {
    const res = await deployment.create(ORDER, { 'idempotency-key': key });
    if (res.status !== 201) throw new Error(`createOrder answered ${res.status}: ${JSON.stringify(res.body)}`);
    return { status: res.status, orderId: res.body.orderId, totalCents: res.body.totalCents };
  });
  await step('retry', async () => {
    const res = await deployment.create(ORDER, { 'idempotency-key': key });
    return { status: res.status, replayed: res.headers['idempotency-replayed'] === 'true', sameAnswer: res.body.orderId === created.orderId, orders: (await stores.orders()).length };
  });
  await step('relayed', async () => {
    // The commit's flush sent OrderPlaced to the queue. SQS delivers at least once: put it back twice.
    const bodies = await stores.take();
    for (const body of bodies) for (let copy = 0; copy < 2; copy++) await stores.send(body);
    return { onQueue: bodies.map((b) => JSON.parse(b).type), redelivered: bodies.length * 2 };
  });
  await step('consume', async () => {
    const deliveries = await deployment.consume();
    const order = await stores.order(created.orderId);
    return { deliveries, status: order.status, history: await stores.eventCount(created.orderId), steps: ['placedAt', 'validatedAt', 'paidAt', 'dispatchedAt'].filter((f) => order[f]).length };
  });
  await step('sweep', async () => {
    await deployment.tick('sweepOutbox');
    return { pending: (await stores.pendingEvents()).length };
  });
  await step('backup', async () => {
    await deployment.tick('backupOrders');
    const objects = await stores.backupObjects();
    const manifest = await stores.readJson(objects.find((o) => o.key.endsWith('/manifest.json')).key);
    return { objects: objects.length, bytes: objects.reduce((sum, o) => sum + o.size, 0), records: manifest.datasets.reduce((sum, d) => sum + d.count, 0) };
  });
  await step('drill', async () => {
    await deployment.tick('restoreDrill');
    const reports = (await stores.backupObjects()).filter((o) => o.key.includes('/drills/'));
    const report = await stores.readJson(reports.at(-1).key);
    return { ok: report.ok, restored: report.datasets.reduce((sum, d) => sum + d.restoredCount, 0), restoreMs: report.restoreMs, leftovers: (await stores.drillLeftovers()).length };
  });
  process.stdout.write(`${JSON.stringify({ provider, steps })}\n`);
} finally {
  await deployment?.close();
  await stores.close();
  // The examples' clients live for the instance, as on a provider; the run is over.
  setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
}
