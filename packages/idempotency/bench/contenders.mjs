// The two contenders of the idempotency bench, configured once for both modes: the vitest bench
// passes our modules from source, built-driver.mjs passes the built ones (dist); Powertools'
// idempotency (makeIdempotent, Redis persistence through its CachePersistenceLayer) comes from
// node_modules either way. Types: contenders.d.mts.
import { randomUUID } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';

/** A Lambda context as the runtime passes it. */
export const lambdaContext = () => ({
  awsRequestId: randomUUID(),
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '128',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** The function both wrap. */
export const work = async (event) => ({ charged: event.amount, orderId: event.orderId });

/** The event the duplicate path replays. */
export const duplicateEvent = { orderId: 'dup-1', amount: 42 };
let counter = 0;
/** A new event each call (the first-call path). */
export const fresh = () => ({ orderId: `new-${process.pid}-${++counter}`, amount: 7 });

/** What Powertools' CachePersistenceLayer needs from a client (`get`, `set` with EX/NX, `del`), over ioredis. */
export function powertoolsClient(redis) {
  return {
    get: (name) => redis.get(name),
    set: (name, value, options) => {
      const o = options ?? {};
      const key = typeof name === 'string' ? name : Buffer.from(name).toString();
      const text = String(value);
      if (o.EX !== undefined && o.NX) return redis.set(key, text, 'EX', o.EX, 'NX');
      if (o.EX !== undefined) return redis.set(key, text, 'EX', o.EX);
      if (o.NX) return redis.set(key, text, 'NX');
      return redis.set(key, text);
    },
    del: (keys) => redis.del(...keys),
  };
}

/** steadyfn: the handler with the idempotency plugin on a Redis store, invoked as Lambda invokes it. */
export function makeSteady({ handler, idempotency, redisStore }, redis, localCache = false) {
  const main = handler({ name: 'bench', logSink: () => undefined, use: [idempotency({ store: redisStore({ client: redis, prefix: 'sf:' }), ttlMs: 3_600_000, localCache })] }, work);
  return (event) => main.aws(event, lambdaContext());
}

/**
 * A prototype, not a product path, for the duplicate path only: the same handler and plugin as
 * `makeSteady`, on a store whose claim is one bare `SET … NX GET` — what a duplicate of a
 * completed record would cost if one bare command answered it. It takes any done record it reads
 * as live (no TTL read, no fence check; its `expiresAt` is the end the server wrote, on the
 * server's clock), which is exactly what the lease store's layout does not allow today (a record
 * stays `retainMs` past its end); it refuses anything but a done record or an absent key. Its
 * other calls are `redisStore`'s. Its record (a key of its own) is written first by `makeSteady`.
 */
export async function makeOneCommandSteady(modules, redis) {
  const { handler, idempotency, redisStore } = modules;
  const event = { orderId: 'dup-one-command', amount: 42 };
  await makeSteady(modules, redis)(event);
  const prefix = 'sf:';
  const store = redisStore({ client: redis, prefix });
  const oneCommand = {
    ...store,
    claim(request) {
      const held = `h|1|3600000|${request.owner}|=${request.fingerprint}`;
      return redis.set(prefix + request.key, held, 'PX', Math.max(1, request.leaseUntil - Date.now()) + 3_600_000, 'NX', 'GET').then((old) => {
        if (old === null) return { claimed: true, fence: 1 };
        // d|<generation>|<retainMs>|<ends>|=<fingerprint>|<result>
        const retain = old.indexOf('|', 2);
        const ends = old.indexOf('|', retain + 1);
        const data = old.indexOf('|', ends + 1);
        const bar = data < 0 ? -1 : old.indexOf('|', data + 2);
        if (!old.startsWith('d|') || bar < 0) throw new Error('the one-command prototype answers done records only');
        return { claimed: false, record: { status: 'completed', fingerprint: old.slice(data + 2, bar), result: old.slice(bar + 1), expiresAt: Number(old.slice(ends + 1, data)) } };
      });
    },
  };
  const main = handler({ name: 'bench', logSink: () => undefined, use: [idempotency({ store: oneCommand, ttlMs: 3_600_000, localCache: false })] }, work);
  const run = () => main.aws(event, lambdaContext());
  // It must replay what the real path replays, or it measures something else.
  const replayed = JSON.stringify(await run());
  if (replayed !== JSON.stringify(await work(event))) throw new Error(`the one-command prototype replayed ${replayed}`);
  return run;
}

/** Powertools: makeIdempotent with its Redis persistence layer, one hour expiry. */
export function makePowertools(redis) {
  const persistenceStore = new CachePersistenceLayer({ client: powertoolsClient(redis) });
  const fn = makeIdempotent(async (event, _context) => work(event), { persistenceStore, config: new IdempotencyConfig({ expiresAfterSeconds: 3600 }) });
  return (event) => fn(event, lambdaContext());
}

/**
 * The floors of the duplicate path, against Powertools' two bare commands (`SET … EX NX`, `GET`)
 * on the same client: one bare command (`SET … NX GET`), the floor of any design that answers a
 * duplicate in one command; and the lease store's claim alone on a settled record (the
 * duplicate's one request, no handler, no plugin), the floor of a claim that fences (a
 * generation read and bumped atomically needs a script).
 */
export async function makeFloors(redis, redisLeaseStore) {
  await redis.set('raw:dup', 'c|0|fp|{"k":"v","v":{"charged":42}}');
  const oneCommand = () => redis.set('raw:dup', 'x', 'PX', 3_600_000, 'NX', 'GET');
  const twoCommands = async () => {
    await redis.set('raw:dup', 'x', 'EX', 3600, 'NX');
    await redis.get('raw:dup');
  };
  const leases = redisLeaseStore({ client: redis, prefix: 'floor:' });
  const held = await leases.claim({ key: 'settled', owner: 'first', leaseMs: 60_000 });
  if (held.claimed) await leases.settle({ key: 'settled', owner: 'first', fence: held.fence, data: 'fp|{"k":"v","v":{"charged":42}}', keepMs: 3_600_000 });
  const scriptClaim = () => leases.claim({ key: 'settled', owner: 'second', leaseMs: 60_000, data: 'fp' });
  return { oneCommand, twoCommands, scriptClaim };
}
