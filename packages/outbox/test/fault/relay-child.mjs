// A relay process of the fault tests, on a real backend with a real @steadyfn/lease store shared
// with the test and the other children (see backends.ts). RELAY_ROLE:
//
//   kill-mid-batch   sweeps; after SQS accepted half of its second batch it says so on stdout and
//                    stops there (nothing of that batch marked, its leases held) until SIGKILLed
//   sweep | flush    relays until nothing is pending, through injected faults (faultySender and a
//                    crash after the claim, seeded by RELAY_SEED): `sweep` sweeps, `flush` relays
//                    a rotating subset of the pending aggregates the way flushes do — both at once,
//                    from two processes, race on the same aggregates
//
// Env: RELAY_BACKEND, RELAY_PREFIX, RELAY_DB, RELAY_QUEUE_URL, RELAY_SQS (moto | fauxqs),
// RELAY_LEASE_MS; RELAY_BARRIER=1: after saying `started`, wait for a line on stdin before relaying
// (so two processes start racing together, not one after the other finished). Runs the TypeScript sources: node --experimental-transform-types
// --conditions=steadyfn-source.
import '../../../../test/support/register-ts.mjs';

const { relaySide } = await import('./backends.ts');
const { crashAfterClaim, faultySender, seeded } = await import('./harness.ts');
const { MetricsRecorder } = await import('../../src/relay/metrics.ts');
const { relayAggregates } = await import('../../src/relay/relay.ts');
const { sweep } = await import('../../src/relay/sweeper.ts');
const { sqsClient } = await import('../support.ts');
const { sqsSender } = await import('../../src/sqs.ts');

const { RELAY_ROLE: role, RELAY_BACKEND: backend, RELAY_PREFIX: prefix, RELAY_DB: db, RELAY_QUEUE_URL: queueUrl, RELAY_SQS: server, RELAY_SEED: seed, RELAY_LEASE_MS: leaseMs } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const side = await relaySide({ backend, prefix, db });
const sqs = await sqsClient(server ?? 'moto');
const inner = sqsSender({ client: sqs, queueUrl });
const run = { leaseMs: Number(leaseMs ?? 30_000), maxEventsPerAggregate: 10, poison: { maxAttempts: 100_000, maxUnfinishedAttempts: 100_000 }, reserveMs: 0, remainingMs: () => 600_000 };
const metrics = new MetricsRecorder();

if (role === 'kill-mid-batch') {
  let calls = 0;
  const sender = {
    fifo: inner.fifo,
    async send(messages, options) {
      calls++;
      if (calls < 2) return inner.send(messages, options);
      const half = messages.slice(0, Math.ceil(messages.length / 2));
      await inner.send(half, options);
      say({ midBatch: half.map((m) => m.id), aggregates: [...new Set(messages.map((m) => m.groupKey))] /* the aggregate, type/id */ });
      await new Promise(() => undefined); // killed here: SQS has half the batch, nothing of it is marked, the leases are held
    },
  };
  say({ started: true });
  await sweep({ store: side.store, lease: side.lease, sender, metrics }, run, { graceMs: 0, maxAggregates: 1000, chunk: 2, parallel: 1, retainSentMs: 0, cleanupLimit: 1 });
  say({ finished: true });
} else {
  const random = seeded(Number(seed ?? 1));
  const store = crashAfterClaim(side.store, 0.02, random);
  const sender = faultySender(inner, { wholeCall: 0.05, partial: 0.15, afterSendBeforeMark: 0.05 }, random);
  const deps = { store, lease: side.lease, sender, metrics };
  say({ started: true });
  if (process.env.RELAY_BARRIER === '1') await new Promise((resolve) => process.stdin.once('data', resolve));
  let quiet = 0;
  for (let pass = 0; pass < 2_000 && quiet < 3; pass++) {
    const pending = await side.store.listPending({ limit: 100_000, before: Date.now() + 60_000 });
    quiet = pending.length === 0 ? quiet + 1 : 0;
    if (pending.length === 0) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (role === 'sweep') await sweep(deps, run, { graceMs: 0, maxAggregates: 100_000, chunk: 25, parallel: 2, retainSentMs: 0, cleanupLimit: 1 });
    else await relayAggregates(deps, pending.filter((_, i) => i % 3 === pass % 3), run);
  }
  say({ finished: true, sent: metrics.sent, leased: metrics.leased, injected: { ...sender.injected, afterClaim: store.injected } });
}
await side.close();
process.exit(0);
