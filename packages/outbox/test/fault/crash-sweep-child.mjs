// One sweep in a process that SIGKILLs itself mid-send (s51 crash isolation test): a relay
// killed by scale-in, a deploy or OOM. Env: CRASH_BACKEND (redis | cluster | ferretdb |
// collection), CRASH_PREFIX, CRASH_DB, CRASH_QUEUE_URL, CRASH_KILL (`all`: any send kills;
// else the aggregate id whose message kills). A send it does not kill goes to SQS (moto).
// Says `{ sent, quarantined }` when the sweep ends without being killed.
import '../../../../test/support/register-ts.mjs';

const { relaySide } = await import('./backends.ts');
const { collectionSide } = await import('./crash-sides.ts');
const { MetricsRecorder } = await import('../../src/relay/metrics.ts');
const { sweep } = await import('../../src/relay/sweeper.ts');
const { sqsClient } = await import('../support.ts');
const { sqsSender } = await import('../../src/sqs.ts');

const { CRASH_BACKEND: backend, CRASH_PREFIX: prefix, CRASH_DB: db, CRASH_QUEUE_URL: queueUrl, CRASH_KILL: kill } = process.env;
const side = backend === 'collection' ? await collectionSide({ prefix, db }) : await relaySide({ backend, prefix, db });
const inner = sqsSender({ client: await sqsClient('moto'), queueUrl });
const sender = {
  fifo: inner.fifo,
  async send(messages, options) {
    if (kill === 'all' || messages.some((m) => JSON.parse(m.body).aggregateId === kill)) process.kill(process.pid, 'SIGKILL');
    return inner.send(messages, options);
  },
};
const metrics = new MetricsRecorder();
const run = { leaseMs: 1000, maxEventsPerAggregate: 10, poison: { maxAttempts: 10, maxUnfinishedAttempts: 3 }, reserveMs: 0, remainingMs: () => 600_000 };
await sweep({ store: side.store, lease: side.lease, sender, metrics }, run, { graceMs: 0, maxAggregates: 1000, chunk: 100, parallel: 1, retainSentMs: 0, cleanupLimit: 1 });
process.stdout.write(`${JSON.stringify({ sent: metrics.sent, quarantined: metrics.quarantined })}\n`);
await side.close();
process.exit(0);
