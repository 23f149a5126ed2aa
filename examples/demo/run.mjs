// Invokes the same wrapped function the way each provider's runtime does, and prints what
// each returned. Services come from `bash test/services/services.sh start` (.services/env).
import { readFileSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const envFile = new URL('../../.services/env', import.meta.url);
if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}

const { createOrder, closeClients } = await import('./orders.mjs');
const functions = await import('@google-cloud/functions-framework');
const { getTestServer } = await import('@google-cloud/functions-framework/testing');
// @azure/functions is CommonJS; its classes sit on the default export when imported from ESM.
const azure = await import('@azure/functions');
const { HttpRequest, InvocationContext } = azure.default ?? azure;

const order = { sku: 'tea-42', qty: 2 };
const results = [];

// AWS Lambda: an HTTP API (v2) event and a Lambda context.
{
  const started = Date.now();
  const event = {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '127.0.0.1' }, requestId: 'apigw-1', domainName: 'example.execute-api.us-east-1.amazonaws.com' },
    body: JSON.stringify(order),
    isBase64Encoded: false,
  };
  const context = { awsRequestId: randomUUID(), functionName: 'create-order', getRemainingTimeInMillis: () => 30_000 - (Date.now() - started) };
  const res = await createOrder(event, context);
  results.push(['AWS Lambda (HTTP API v2)', res.statusCode, res.body]);
}

// Google Cloud Functions: registered with the Functions Framework, called over HTTP.
{
  functions.http('createOrder', createOrder);
  const server = getTestServer('createOrder');
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const res = await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
  results.push(['Google Cloud Functions (HTTP)', res.status, await res.text()]);
  await new Promise((resolve) => server.close(resolve));
}

// Azure Functions v4: an HttpRequest and an InvocationContext, as the host passes them.
{
  const request = new HttpRequest({ method: 'POST', url: 'http://localhost/api/orders', headers: { 'content-type': 'application/json' }, body: { string: JSON.stringify(order) } });
  const context = new InvocationContext({ invocationId: randomUUID(), functionName: 'createOrder', options: { trigger: { type: 'httpTrigger', name: 'request' } } });
  const res = await createOrder(request, context);
  results.push(['Azure Functions (HTTP)', res.status, typeof res.body === 'string' ? res.body : String(res.body)]);
}

// Apache OpenWhisk: a non-raw web action; the controller merges the JSON body into params
// and sets the activation's identity and deadline in the environment.
{
  process.env.__OW_ACTIVATION_ID = randomUUID().replace(/-/g, '');
  process.env.__OW_ACTION_NAME = '/guest/demo/create-order';
  process.env.__OW_DEADLINE = String(Date.now() + 60_000);
  const res = await createOrder({ ...order, __ow_method: 'post', __ow_headers: { 'content-type': 'application/json' }, __ow_path: '' });
  results.push(['Apache OpenWhisk (web action)', res.statusCode, res.body]);
  delete process.env.__OW_ACTIVATION_ID;
}

await closeClients();
for (const [provider, status, body] of results) console.log(`${provider.padEnd(32)} ${status} ${body}`);
const failed = results.filter(([, status]) => status !== 201);
if (failed.length > 0) {
  console.error(`${failed.length} provider(s) did not answer 201`);
  process.exit(1);
}
