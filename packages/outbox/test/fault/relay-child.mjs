// A relay process the test SIGKILLs in the middle of a batch: it sweeps the outbox under
// OUTBOX_PREFIX to OUTBOX_QUEUE_URL, and after SQS accepted part of its second batch it says
// so on stdout and stops there (before marking anything of that batch) until it is killed.
// Runs the TypeScript sources directly: node --experimental-transform-types --conditions=steadyfn-source.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});

const { Redis } = await import('ioredis');
const { redisRelayStore } = await import('../../src/stores/redis.ts');
const { MetricsRecorder } = await import('../../src/relay/metrics.ts');
const { sweep } = await import('../../src/relay/sweeper.ts');
const { memoryLease, sqsClient } = await import('../support.ts');
const { sqsSender } = await import('../../src/sqs/index.ts');

const redis = new Redis(process.env.REDIS_URL);
const sqs = await sqsClient();
const inner = sqsSender({ client: sqs, queueUrl: process.env.OUTBOX_QUEUE_URL });
let calls = 0;
const sender = {
  fifo: inner.fifo,
  async send(messages, options) {
    calls++;
    if (calls < 2) return inner.send(messages, options);
    const half = messages.slice(0, Math.ceil(messages.length / 2));
    await inner.send(half, options);
    process.stdout.write(`${JSON.stringify({ midBatch: half.map((m) => m.id) })}\n`);
    await new Promise(() => undefined); // killed here: SQS has half the batch, nothing of it is marked
  },
};
const store = redisRelayStore({ client: redis, prefix: process.env.OUTBOX_PREFIX });
const run = { leaseMs: 30_000, maxEventsPerAggregate: 10, poison: { maxAttempts: 100, maxUnfinishedAttempts: 100 }, reserveMs: 0, remainingMs: () => 60_000 };
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
await sweep({ store, lease: memoryLease(), sender, metrics: new MetricsRecorder() }, run, { graceMs: 0, maxAggregates: 1000, chunk: 2, retainSentMs: 0, cleanupLimit: 1 });
process.stdout.write(`${JSON.stringify({ finished: true })}\n`);
