// Invokes the same wrapped function the way each provider's runtime does — twice, as a
// client retrying after a timeout would, with the same Idempotency-Key — and prints what
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
process.env.STEADYFN_LOG_LEVEL ??= 'error';

const { createOrder, closeClients } = await import('./orders.mjs');
const functions = await import('@google-cloud/functions-framework');
const { getTestServer } = await import('@google-cloud/functions-framework/testing');
// @azure/functions is CommonJS; its classes sit on the default export when imported from ESM.
const azure = await import('@azure/functions');
const { HttpRequest, InvocationContext } = azure.default ?? azure;

const order = { sku: 'tea-42', qty: 2 };
const run = randomUUID().slice(0, 8); // fresh keys on every demo run
const results = [];

// AWS Lambda: an HTTP API (v2) event and a Lambda context.
async function viaLambda(key) {
  const started = Date.now();
  const event = {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '127.0.0.1' }, requestId: randomUUID(), domainName: 'example.execute-api.us-east-1.amazonaws.com' },
    body: JSON.stringify(order),
    isBase64Encoded: false,
  };
  const context = { awsRequestId: randomUUID(), functionName: 'create-order', getRemainingTimeInMillis: () => 30_000 - (Date.now() - started) };
  const res = await createOrder(event, context);
  return { status: res.statusCode, replayed: res.headers['Idempotency-Replayed'] ?? res.headers['idempotency-replayed'], body: res.body };
}

// Google Cloud Functions: registered with the Functions Framework, called over HTTP.
functions.http('createOrder', createOrder);
const server = getTestServer('createOrder');
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
async function viaGcp(key) {
  const res = await fetch(`http://127.0.0.1:${server.address().port}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(order),
  });
  return { status: res.status, replayed: res.headers.get('idempotency-replayed'), body: await res.text() };
}

// Azure Functions v4: an HttpRequest and an InvocationContext, as the host passes them.
async function viaAzure(key) {
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://localhost/api/orders',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: { string: JSON.stringify(order) },
  });
  const context = new InvocationContext({ invocationId: randomUUID(), functionName: 'createOrder', options: { trigger: { type: 'httpTrigger', name: 'request' } } });
  const res = await createOrder(request, context);
  const headers = new Headers(res.headers);
  return { status: res.status, replayed: headers.get('idempotency-replayed'), body: typeof res.body === 'string' ? res.body : Buffer.from(res.body ?? '').toString('utf8') };
}

// Apache OpenWhisk: a non-raw web action; the controller merges the JSON body into params
// and sets the activation's identity and deadline in the environment.
async function viaOpenWhisk(key) {
  process.env.__OW_ACTIVATION_ID = randomUUID().replace(/-/g, '');
  process.env.__OW_ACTION_NAME = '/guest/demo/create-order';
  process.env.__OW_DEADLINE = String(Date.now() + 60_000);
  try {
    const res = await createOrder({ ...order, __ow_method: 'post', __ow_headers: { 'content-type': 'application/json', 'idempotency-key': key }, __ow_path: '' });
    const headers = new Headers(res.headers);
    return { status: res.statusCode, replayed: headers.get('idempotency-replayed'), body: typeof res.body === 'string' ? res.body : JSON.stringify(res.body) };
  } finally {
    delete process.env.__OW_ACTIVATION_ID;
  }
}

const providers = [
  ['AWS Lambda (HTTP API v2)', viaLambda],
  ['Google Cloud Functions (HTTP)', viaGcp],
  ['Azure Functions (HTTP)', viaAzure],
  ['Apache OpenWhisk (web action)', viaOpenWhisk],
];
try {
  for (const [name, invoke] of providers) {
    const key = `demo-${run}-${name.split(' ')[0].toLowerCase()}`;
    const first = await invoke(key);
    const retry = await invoke(key);
    results.push({ name, first, retry });
  }
} finally {
  await new Promise((resolve) => server.close(resolve));
  await closeClients();
}

for (const { name, first, retry } of results) {
  console.log(`${name.padEnd(31)} first  ${first.status} ${first.body}`);
  console.log(`${''.padEnd(31)} retry  ${retry.status} ${retry.body}${retry.replayed ? '  (Idempotency-Replayed)' : ''}`);
}
const wrong = results.filter(({ first, retry }) => first.status !== 201 || retry.status !== 201 || retry.body !== first.body || retry.replayed !== 'true');
if (wrong.length > 0) {
  console.error(`${wrong.length} provider(s) did not answer 201 and replay it on retry`);
  process.exit(1);
}
