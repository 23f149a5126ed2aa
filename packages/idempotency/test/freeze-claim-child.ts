/**
 * A warm function instance for review-freeze-first-claim.test.ts, which stops it with SIGSTOP
 * and resumes it with SIGCONT, as Lambda freezes an instance between invocations. Set up as the
 * READMEs write it: a `@steadyfn/connections` handle, and the idempotency store on a getter of
 * its client (`redisStore({ client: () => cache.get() })`, or `mongoStore` on the `mongo()`
 * handle's collection). Each stdin line is one API Gateway event; each answer is one JSON line
 * on stdout: the status and body.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { handler } from '@steadyfn/handler';
import { connections } from '../../connections/src/index.js';
import { mongo } from '../../connections/src/mongodb.js';
import { redis } from '../../connections/src/redis.js';
import { idempotency, mongoStore, redisStore } from '../src/index.js';

// Longer than any freeze of the test: no thaw check runs, as with a short Lambda freeze.
const idleThresholdMs = 600_000;

const cache = redis({ url: process.env.CHILD_REDIS_URL, idleThresholdMs });
const db = mongo({ uri: process.env.CHILD_MONGODB_URI, db: 'steadyfn_freeze_claim', idleThresholdMs });

const store =
  process.env.CHILD_KIND === 'mongo'
    ? mongoStore({ collection: async () => (await db.get()).db.collection(process.env.CHILD_COLLECTION!) })
    : redisStore({ client: () => cache.get(), prefix: `${process.env.CHILD_PREFIX}:` });
const clients: Record<string, typeof db | typeof cache> = process.env.CHILD_KIND === 'mongo' ? { db } : { redis: cache };

const main = handler(
  { name: 'orders', logSink: () => undefined, use: [connections(clients, { closeOnSigterm: false }), idempotency({ store, ttlMs: 3_600_000, localCache: false })] },
  async (input: unknown) => ({ ran: input }),
);

createInterface({ input: process.stdin }).on('line', (line) => {
  const deadline = Date.now() + 20_000;
  const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
  (main.aws(JSON.parse(line), context) as Promise<{ statusCode: number; body: string }>).then(
    (answer) => process.stdout.write(JSON.stringify({ status: answer.statusCode, body: answer.body }) + '\n'),
    (error: { code?: string }) => process.stdout.write(JSON.stringify({ status: 0, body: String(error.code) }) + '\n'),
  );
});
process.stdin.on('end', () => process.exit(0));
// Never outlive a broken test.
setTimeout(() => process.exit(3), 120_000).unref();
