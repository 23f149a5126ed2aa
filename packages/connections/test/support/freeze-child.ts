/**
 * A warm function instance that the freeze test stops with SIGSTOP and resumes with
 * SIGCONT, as Lambda freezes an instance between invocations. Each stdin line is one
 * invocation; each answer is one JSON line on stdout with the plugin's record.
 */
import { createInterface } from 'node:readline';
import { handler } from '@steadyfn/handler';
import { connections } from '../../src/index.js';
import { mongo } from '../../src/mongodb.js';
import { redis } from '../../src/redis.js';

const logged: string[] = [];
const idleThresholdMs = Number(process.env.CHILD_IDLE_MS ?? 10_000);
// With CHILD_DEADLINE_MS, each invocation gets a deadline that long after its line is read (after a thaw, not before).
const deadlineMs = process.env.CHILD_DEADLINE_MS === undefined ? undefined : Number(process.env.CHILD_DEADLINE_MS);
const logSink = (line: string): void => {
  logged.push(line);
};

// CHILD_KIND picks the client: a Redis client by default, or MongoDB (FerretDB).
const main =
  process.env.CHILD_KIND === 'mongo'
    ? handler(
        { use: [connections({ db: mongo({ uri: process.env.CHILD_MONGODB_URI, db: 'steadyfn_freeze', idleThresholdMs }) }, { closeOnSigterm: false, logReused: true })], logSink },
        async (input, ctx) => {
          const docs = ctx.db.db.collection<{ _id: string; v: string }>('freeze');
          await docs.updateOne({ _id: 'k' }, { $set: { v: String(input) } }, { upsert: true });
          return (await docs.findOne({ _id: 'k' }))?.v;
        },
      )
    : handler(
        {
          use: [
            connections(
              { db: redis({ url: process.env.CHILD_REDIS_URL, idleThresholdMs, options: { connectionName: 'steadyfn-freeze-child' } }) },
              { closeOnSigterm: false, logReused: true },
            ),
          ],
          logSink,
        },
        async (input, ctx) => {
          await ctx.db.set('steadyfn:freeze', String(input));
          return ctx.db.get('steadyfn:freeze');
        },
      );

function record(): unknown {
  const entry = logged.map((l) => JSON.parse(l) as { msg: string; clients?: { db?: unknown } }).find((l) => l.msg === 'connections');
  return entry?.clients?.db;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  logged.length = 0;
  main.invoke(line, deadlineMs === undefined ? undefined : { deadline: Date.now() + deadlineMs }).then(
    (value) => process.stdout.write(JSON.stringify({ ok: true, value, record: record() }) + '\n'),
    (err: { code?: string; message?: string }) => process.stdout.write(JSON.stringify({ ok: false, code: err.code, message: err.message, record: record() }) + '\n'),
  );
});
process.stdin.on('end', () => process.exit(0));
// Never outlive a broken test.
setTimeout(() => process.exit(3), 60_000).unref();
