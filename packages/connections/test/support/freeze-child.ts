/**
 * A warm function instance that the freeze test stops with SIGSTOP and resumes with
 * SIGCONT, as Lambda freezes an instance between invocations. Each stdin line is one
 * invocation; each answer is one JSON line on stdout with the plugin's record.
 */
import { createInterface } from 'node:readline';
import { handler } from '@steadyfn/handler';
import { connections, redis } from '../../src/index.js';

const logged: string[] = [];
const cache = redis({
  url: process.env.CHILD_REDIS_URL,
  idleThresholdMs: Number(process.env.CHILD_IDLE_MS ?? 10_000),
  options: { connectionName: 'steadyfn-freeze-child' },
});
const main = handler({ use: [connections({ redis: cache }, { closeOnSigterm: false })], logSink: (line) => logged.push(line) }, async (input, ctx) => {
  await ctx.redis.set('steadyfn:freeze', String(input));
  return ctx.redis.get('steadyfn:freeze');
});

function record(): unknown {
  const entry = logged.map((l) => JSON.parse(l) as { msg: string; clients?: { redis?: unknown } }).find((l) => l.msg === 'connections');
  return entry?.clients?.redis;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  logged.length = 0;
  main.invoke(line).then(
    (value) => process.stdout.write(JSON.stringify({ ok: true, value, record: record() }) + '\n'),
    (err: { code?: string; message?: string }) => process.stdout.write(JSON.stringify({ ok: false, code: err.code, message: err.message, record: record() }) + '\n'),
  );
});
process.stdin.on('end', () => process.exit(0));
// Never outlive a broken test.
setTimeout(() => process.exit(3), 60_000).unref();
