/**
 * A function as a user bundles it for Lambda, for the bundling tests: one client (Redis or
 * MongoDB, chosen at build time by which entry imports it), one HTTP invocation through
 * the Lambda adapter and one direct invocation. Prints one JSON line: the HTTP answer, the
 * direct invocation's error (if any) and every log line.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Plugin } from '@steadyfn/handler';
import { closeAll } from '../../src/index.js';

export async function serve(plugin: Plugin<object>, fn: (ctx: Record<string, any>) => Promise<unknown>, lines: string[]): Promise<void> {
  const main = handler({ use: [plugin], logSink: (line) => lines.push(line) }, async (_input, ctx) => fn(ctx as unknown as Record<string, any>));
  const event = {
    version: '2.0',
    routeKey: 'GET /ping',
    rawPath: '/ping',
    rawQueryString: '',
    headers: {},
    requestContext: { http: { method: 'GET', path: '/ping', sourceIp: '127.0.0.1' }, requestId: randomUUID(), domainName: 'x.execute-api.eu-west-1.amazonaws.com' },
    isBase64Encoded: false,
  };
  const http = await main(event, { awsRequestId: randomUUID(), functionName: 'ping', getRemainingTimeInMillis: () => 10_000 });
  let direct: unknown = { ok: true };
  try {
    await main.invoke(null);
  } catch (err) {
    const e = err as { code?: string; retryable?: boolean; message?: string };
    direct = { code: e.code, retryable: e.retryable, message: e.message };
  }
  await closeAll();
  process.stdout.write(JSON.stringify({ http, direct, lines }) + '\n');
}
