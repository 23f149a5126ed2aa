// A sweeper process with a small V8 heap (the test starts it with --max-old-space-size), as a
// 128-512 MiB function is: sweeps an outbox backlog of large events with the relay options'
// defaults (resolveRelay, relayEntries), on a real backend with a real @steadyfn/lease store
// (see ../fault/backends.ts), to a real SQS queue. Prints one JSON line when done: what was
// sent and quarantined, and the peak heap and RSS it saw. Dies (V8 "heap limit") when a round
// reads more than the heap holds.
//
// Env: MEM_BACKEND (redis | ferretdb), MEM_PREFIX, MEM_DB, MEM_QUEUE_URL, MEM_SQS (moto | fauxqs).
import '../../../../test/support/register-ts.mjs';

const { relaySide } = await import('../fault/backends.ts');
const { sqsClient } = await import('../support.ts');
const { sqsSender } = await import('../../src/sqs.ts');
const { resolveRelay } = await import('../../src/options.ts');
const { relayEntries } = await import('../../src/relay/entry.ts');

const { MEM_BACKEND: backend, MEM_PREFIX: prefix, MEM_DB: db, MEM_QUEUE_URL: queueUrl, MEM_SQS: server } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const side = await relaySide({ backend, prefix, db });
const sqs = await sqsClient(server ?? 'fauxqs');
const relay = resolveRelay({ sender: sqsSender({ client: sqs, queueUrl }), lease: side.lease, sweep: { graceMs: 0 } });
const entries = relayEntries('memory', relay, side.store);
const ctx = { signal: new AbortController().signal, remainingMs: () => 600_000, log: undefined };

// What the process holds before the sweep (Node, the SDK, the drivers, the TypeScript sources).
const before = process.memoryUsage();
let heapPeak = 0;
let rssPeak = 0;
let externalPeak = 0;
const sample = () => {
  const m = process.memoryUsage();
  heapPeak = Math.max(heapPeak, m.heapUsed);
  rssPeak = Math.max(rssPeak, m.rss);
  externalPeak = Math.max(externalPeak, m.external + m.arrayBuffers);
};
const sampler = setInterval(sample, 5);
let sent = 0;
let quarantined = 0;
for (let pass = 0; pass < 20; pass++) {
  const result = await entries.sweep(ctx);
  sent += result.metrics.sent;
  quarantined += result.metrics.quarantined;
  if (result.found === 0) break;
}
clearInterval(sampler);
sample();
say({ finished: true, sent, quarantined, heapPeak, rssPeak, externalPeak, heapBefore: before.heapUsed, rssBefore: before.rss });
await side.close();
process.exit(0);
