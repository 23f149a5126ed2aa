/**
 * A warm function instance for the SIGTERM test: it serves one invocation, says "ready",
 * then idles until the platform stops it. AWS_LAMBDA_FUNCTION_NAME is set by the test,
 * so the plugin installs its SIGTERM handler as it would on Lambda.
 */
import { handler } from '@steadyfn/handler';
import { connections } from '../../src/index.js';
import { redis } from '../../src/redis.js';

const cache = redis({ url: process.env.CHILD_REDIS_URL, options: { connectionName: 'steadyfn-sigterm-child' } });
const main = handler({ use: [connections({ redis: cache })], logSink: () => undefined }, async (_input, ctx) => ctx.redis.set('steadyfn:sigterm', 'v'));

async function run(): Promise<void> {
  await main.invoke(null);
  process.stdout.write('ready\n');
  // Keep the event loop alive like an idle warm instance; bounded so it can never hang.
  setTimeout(() => process.exit(3), 20_000);
}

void run();
