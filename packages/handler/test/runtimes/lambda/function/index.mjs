// The function the Lambda runtime test deploys: written as a user would, against the built
// package. It is copied into a task root whose node_modules holds that build.
import { handler, httpResult } from '@steadyfn/handler';
import { z } from 'zod';
import { deaggregateSync } from 'aws-kinesis-agg';

const Order = z.object({ orderId: z.string(), quantity: z.coerce.number().int().positive() });

async function processOrder(input, ctx) {
  ctx.signal.addEventListener('abort', () => ctx.log.info('signal aborted', { orderId: input.orderId }));
  if (input.orderId === 'explode') {
    // An unexpected failure: its message and stack must reach neither the caller nor the logs' error body.
    throw new Error('ledger write failed on shard 7');
  }
  if (input.orderId === 'slow') {
    // Ignores the signal on purpose: the wrapper must answer without the function's help.
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
  const facts = {
    orderId: input.orderId,
    total: input.quantity * 3,
    provider: ctx.provider,
    trigger: ctx.trigger.kind,
    source: ctx.trigger.source,
    functionName: ctx.functionName,
    requestId: ctx.requestId,
    deliveryId: ctx.deliveryId ?? null,
    attempt: ctx.trigger.kind === 'queue' ? (ctx.trigger.attempt ?? null) : null,
    // Message attributes as the function reads them: text, bytes (shown as hex) and declared types.
    attributes: ctx.trigger.kind === 'queue' ? ctx.trigger.attributes : null,
    binaryAttributes: ctx.trigger.kind === 'queue' ? Object.fromEntries(Object.entries(ctx.trigger.binaryAttributes ?? {}).map(([name, bytes]) => [name, bytes.toString('hex')])) : null,
    attributeTypes: ctx.trigger.kind === 'queue' ? (ctx.trigger.attributeTypes ?? null) : null,
    sns: ctx.trigger.kind === 'queue' ? (ctx.trigger.sns ?? null) : null,
    deadline: ctx.deadline,
  };
  ctx.log.info('processed', facts);
  if (ctx.trigger.kind === 'http') return httpResult({ status: 201, headers: { 'x-request-id': ctx.requestId }, body: facts });
  return facts;
}

// A five-second margin: the deadline tests leave that much slack, on the real clock, between our
// answer and the runtime deadline, so a loaded machine delivering the answer late still makes it.
const MARGIN_MS = 5_000;
const orders = handler({ input: Order, deadlineMarginMs: MARGIN_MS }, processOrder);

// A stream whose producer uses the KPL (aggregation on): the user's own aws-kinesis-agg reads it.
const kplOrders = handler({ input: Order, deadlineMarginMs: MARGIN_MS, kinesisDeaggregate: deaggregateSync }, processOrder);

// Binary uploads go to a handler of their own, as a router in user code would send them:
// it answers with the bytes it received, and whether ctx saw the same bytes.
const upload = handler({ input: z.instanceof(Buffer) }, (input, ctx) => {
  const rawBytes = ctx.trigger.kind === 'http' ? ctx.trigger.request.rawBytes : undefined;
  return httpResult({ headers: { 'content-type': 'application/octet-stream', 'x-raw-bytes': rawBytes?.equals(input) ? 'same' : 'different' }, body: input });
});

// A plugin whose `before` outlives any deadline: the wrapper must answer DEADLINE_EXCEEDED at
// the deadline and never start the function.
const stuck = { name: 'stuck', before: () => new Promise((resolve) => setTimeout(resolve, 60_000)) };
const guarded = handler({ use: [stuck], deadlineMarginMs: MARGIN_MS }, (_input, ctx) => {
  ctx.log.info('function started');
  return { ran: true };
});

// Several values for one header and several cookies, as an HTTP API must carry them.
const cookies = handler({}, () =>
  httpResult({ headers: { link: ['</a>; rel="a"', '</b>; rel="b"'] }, cookies: ['a=1; HttpOnly', 'b=2; Path=/'], body: { ok: true } }),
);

// Who is calling, as the function sees it (ALB identity headers trusted: its listener authenticates).
const whoami = handler({ trustIdentityHeaders: ['alb-oidc'] }, (_input, ctx) => ({ principal: ctx.principal ?? null }));

// A result of the size the caller asks for (`x-bytes` header, or `bytes` of a direct invoke):
// text over HTTP, `{ text }` otherwise. A plugin logs which hook saw the outcome, as
// idempotency completes a record in `after` and releases it in `onError`.
const recorder = {
  name: 'recorder',
  after: (ctx) => ctx.log.info('after hook'),
  onError: (ctx, error) => ctx.log.info('onError hook', { seen: error.code }),
};
const large = handler({ use: [recorder] }, (input, ctx) => {
  // A WebSocket message has no headers: its body asks (`{ "action": "large", "bytes": n }`).
  const bytes = ctx.trigger.kind === 'http' ? Number(ctx.trigger.request.headers['x-bytes'] ?? input.bytes) : Number(input.bytes);
  const text = 'x'.repeat(bytes);
  return ctx.trigger.kind === 'http' ? httpResult({ body: text }) : { text };
});

// Published sample events (test/fixtures/samples): the function reports what it saw; a stream
// record that updates an item fails, so the batch answer names it.
const samples = handler({}, (input, ctx) => {
  if (ctx.trigger.kind === 'change' && ctx.trigger.op === 'update') throw new Error('update refused');
  const seen = { input, kind: ctx.trigger.kind, source: ctx.trigger.source, deliveryId: ctx.deliveryId ?? null, principal: ctx.principal ?? null };
  ctx.log.info('sample seen', seen);
  if (ctx.trigger.kind !== 'http') return seen;
  const { method, path, query, sourceIp } = ctx.trigger.request;
  return httpResult({ status: 201, cookies: ['a=1; Path=/', 'b=2; Path=/'], body: { ...seen, method, path, query, sourceIp } });
});
const SAMPLE_SOURCES = new Set([
  'arn:aws:sqs:eu-central-1:123456789012:TestLambda',
  'arn:aws:dynamodb:eu-central-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899',
]);
const isSample = (event) =>
  SAMPLE_SOURCES.has(event?.Records?.[0]?.eventSourceARN) ||
  event?.requestContext?.apiId === 'puhdx84jy9' ||
  event?.requestContext?.elb?.targetGroupArn?.endsWith(':targetgroup/lambda-target/abcdefg') === true;

const route = (event) => {
  if (isSample(event)) return samples;
  if (event?.headers?.['x-bytes'] !== undefined || event?.route === 'large' || event?.requestContext?.routeKey === 'large') return large;
  if (event?.Records?.[0]?.eventSourceARN?.endsWith(':stream/kpl-orders')) return kplOrders;
  const kind = event?.headers?.['x-route'];
  if (kind === 'stuck') return guarded;
  if (kind === 'cookies') return cookies;
  if (kind === 'whoami') return whoami;
  return event?.headers?.['content-type'] === 'application/octet-stream' ? upload : orders;
};

export const main = (event, context) => route(event)(event, context);
