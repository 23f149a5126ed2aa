/**
 * The Lambda adapter in the real Lambda Node runtime: `aws-lambda-ric` (the runtime interface
 * client AWS ships in its Node base images, native client included) runs as a child process,
 * loads a function from a task root the way Lambda does (`_HANDLER=index.main`), and talks to
 * the Runtime API served by this test on 127.0.0.1. The function imports `@steadyfn/handler`
 * from a build of this package in the task root's node_modules, as a deployment package would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installBuiltHandler } from '../../support/deployment.js';
import { RuntimeApi } from './runtime-api.js';
import { binaryBody } from '../../support/bytes.js';
import { aggregatedBytes, kinesisRecord } from '../../support/kinesis-aggregation.js';

type Json = Record<string, any>;

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '../../..');
const require = createRequire(join(packageDir, 'package.json'));

const fixture = (name: string): Json => JSON.parse(readFileSync(join(packageDir, 'test/fixtures/aws', name), 'utf8')) as Json;
/** A published sample event as published (test/fixtures/samples/aws, sources in SOURCES.md there). */
const publishedSample = (name: string): Json => JSON.parse(readFileSync(join(packageDir, 'test/fixtures/samples/aws', name), 'utf8')) as Json;

let api: RuntimeApi;
let runtime: ChildProcess | undefined;
let taskRoot = '';
let stdout = '';
let stderr = '';

/** The JSON log lines the function wrote (the runtime's own lines are plain text). */
function logLines(): Json[] {
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Json);
}

/** A stack frame of the function's own file (the task root's index.mjs), not the runtime's aws-lambda-ric/index.mjs. */
const FUNCTION_FRAME = /(?<!aws-lambda-ric\/)index\.mjs:\d/;

/** Waits, boundedly, for output the child may still be flushing after it posted its answer. */
async function untilLogged(predicate: (line: Json) => boolean): Promise<Json | undefined> {
  // Up to 5 s: on a loaded 2-core machine the child can flush its lines late.
  for (let i = 0; i < 100; i++) {
    const found = logLines().find(predicate);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

function ricEntry(): string {
  const dir = dirname(require.resolve('aws-lambda-ric/package.json'));
  if (!existsSync(join(dir, 'rapid-client.node'))) {
    throw new Error(
      'aws-lambda-ric was installed without its native client (rapid-client.node). It is built from source on install: ' +
        'it needs the Debian packages cmake, g++ and make (plus autoconf, automake and libtool if curl must be reconfigured); ' +
        'install them and run `pnpm install` again (pnpm-workspace.yaml allows its build script).',
    );
  }
  return join(dir, 'index.mjs');
}

/** The task root of a deployment package: the built handler in node_modules, and the function. */
async function buildDeploymentPackage(root: string): Promise<void> {
  await installBuiltHandler(root);
  // The function's own dependency (KPL de-aggregation), as its deployment package would ship it.
  symlinkSync(realpathSync(dirname(require.resolve('aws-kinesis-agg/package.json'))), join(root, 'node_modules/aws-kinesis-agg'), 'dir');
  copyFileSync(join(here, 'function/index.mjs'), join(root, 'index.mjs'));
}

beforeAll(async () => {
  const entry = ricEntry();
  taskRoot = mkdtempSync(join(tmpdir(), 'steadyfn-lambda-task-'));
  await buildDeploymentPackage(taskRoot);
  api = new RuntimeApi();
  const address = await api.listen();
  runtime = spawn(process.execPath, [entry], {
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      AWS_LAMBDA_RUNTIME_API: address,
      _HANDLER: 'index.main',
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_LAMBDA_FUNCTION_NAME: 'orders-fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/orders-fn',
      AWS_LAMBDA_LOG_STREAM_NAME: '2025/03/14/[$LATEST]0f3c2a719d4e4b8aa1c65e7d9b2f4c10',
      AWS_REGION: 'eu-west-1',
      STEADYFN_LOG_LEVEL: 'info',
    },
  });
  runtime.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  runtime.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  runtime.on('exit', (code, signal) => api.abandon(`the runtime exited (code ${code}, signal ${signal}); stderr: ${stderr.slice(-2000)}; stdout: ${stdout.slice(-2000)}`));
});

afterAll(async () => {
  if (runtime && runtime.exitCode === null) {
    const exited = new Promise((resolve) => runtime!.once('exit', resolve));
    runtime.kill('SIGTERM');
    await exited;
  }
  await api?.close();
  if (taskRoot) rmSync(taskRoot, { recursive: true, force: true });
});

describe('aws-lambda-ric running a steadyfn handler', () => {
  it('answers an HTTP API (v2) event with the function result and the runtime context', async () => {
    const deadlineMs = Date.now() + 20_000;
    const result = await api.invoke(fixture('apigw-v2-post.json'), { requestId: 'ric-http-1', deadlineMs });
    expect(result.outcome).toBe('response');
    const res = result.body as Json;
    expect(res).toMatchObject({
      statusCode: 201,
      headers: { 'x-request-id': 'ric-http-1', 'content-type': 'application/json' },
      isBase64Encoded: false,
    });
    const facts = JSON.parse(res.body) as Json;
    expect(facts).toMatchObject({
      orderId: 'o-2002',
      total: 9,
      provider: 'aws',
      trigger: 'http',
      source: 'apigw-v2',
      functionName: 'orders-fn',
      requestId: 'ric-http-1',
      deliveryId: null,
    });
    // The deadline comes from Lambda-Runtime-Deadline-Ms through getRemainingTimeInMillis().
    expect(facts.deadline).toBeGreaterThanOrEqual(deadlineMs);
    expect(facts.deadline).toBeLessThan(deadlineMs + 1_000);
  });

  it('hands a binary body (base64 in the event) to the function byte for byte, and sends it back the same', async () => {
    const bytes = binaryBody();
    const event = fixture('apigw-v2-post.json');
    event.headers['content-type'] = 'application/octet-stream';
    event.headers['content-length'] = String(bytes.length);
    event.body = bytes.toString('base64');
    event.isBase64Encoded = true;
    const result = await api.invoke(event, { requestId: 'ric-upload-1' });
    expect(result.outcome).toBe('response');
    const res = result.body as Json;
    expect(res).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/octet-stream', 'x-raw-bytes': 'same' }, isBase64Encoded: true });
    expect(Buffer.from(res.body as string, 'base64').equals(bytes)).toBe(true);
  });

  it('answers invalid HTTP input with a 400 problem, as a response rather than an invocation error', async () => {
    const event = fixture('apigw-v2-post.json');
    event.body = JSON.stringify({ quantity: 'two' });
    event.isBase64Encoded = false;
    const result = await api.invoke(event);
    expect(result.outcome).toBe('response');
    expect(result.body.statusCode).toBe(400);
    expect(result.body.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(result.body.body) as Json;
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors.map((e: Json) => e.field).sort()).toEqual(['orderId', 'quantity']);
  });

  it('reports only the failing message of an SQS batch in batchItemFailures', async () => {
    const batch = fixture('sqs-standard-batch.json');
    const records = batch.Records as Json[];
    records[1]!.body = JSON.stringify({ orderId: 'explode', quantity: 1 });
    const result = await api.invoke(batch, { requestId: 'ric-sqs-1' });
    expect(result.outcome).toBe('response');
    expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
    // The other two ran, each with its own request id and delivery id.
    for (const record of [records[0]!, records[2]!]) {
      const line = await untilLogged((l) => l.msg === 'processed' && l.deliveryId === record.messageId);
      expect(line, stdout.slice(-3000)).toMatchObject({ requestId: `ric-sqs-1:${record.messageId}`, trigger: 'queue', source: 'sqs', attempt: Number(record.attributes.ApproximateReceiveCount) });
    }
  });

  it('hands SQS Binary message attributes to the function as bytes and Number attributes as exact text; a malformed one fails its message alone', async () => {
    const batch = fixture('published/sqs-typed-attributes.json');
    const records = batch.Records as Json[];
    for (const [i, record] of records.entries()) record.body = JSON.stringify({ orderId: `o-attr${i}`, quantity: 1 });
    const third = structuredClone(records[1]!);
    third.messageId = '7d8e9f0a-3b4c-4d5e-9f6a-7b8c9d0e1f2a';
    third.messageAttributes.checksum.binaryValue = 'AP/+fw=?';
    records.push(third);
    const result = await api.invoke(batch, { requestId: 'ric-sqs-attrs' });
    expect(result.outcome).toBe('response');
    expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: third.messageId }] });
    const first = await untilLogged((l) => l.msg === 'processed' && l.deliveryId === records[0]!.messageId);
    expect(first, stdout.slice(-3000)).toMatchObject({
      attributes: { tenant: 'acme', amount: '12345678901234567890.0000000001', ratio: '0.1e-3' },
      binaryAttributes: { thumbnail: '89504e470d0a1a0a', pixel: '4749463839610100010080ff' },
      attributeTypes: { amount: 'Number', ratio: 'Number.float', thumbnail: 'Binary', pixel: 'Binary.gif' },
    });
    const second = await untilLogged((l) => l.msg === 'processed' && l.deliveryId === records[1]!.messageId);
    expect(second).toMatchObject({ attributes: {}, binaryAttributes: { checksum: '00fffe7f' } });
    const refused = await untilLogged((l) => l.deliveryId === third.messageId && l.code === 'MALFORMED_EVENT');
    expect(refused, stdout.slice(-3000)).toBeDefined();
    expect(logLines().some((l) => l.msg === 'processed' && l.deliveryId === third.messageId)).toBe(false);
  });

  it('unwraps SQS messages an SNS topic delivered without raw delivery: the Message validated, SNS attributes and ids on the trigger; a malformed envelope fails its message alone', async () => {
    const batch = fixture('published/sqs-sns-envelope.json');
    const records = (batch.Records as Json[]).slice(0, 2);
    const envelopes = records.map((r) => JSON.parse(r.body as string) as Json);
    envelopes.forEach((envelope, i) => (envelope.Message = JSON.stringify({ orderId: `o-sns${i}`, quantity: 2 })));
    const broken = structuredClone(envelopes[0]!);
    broken.MessageAttributes.digest.Value = 'AP/+fw=?';
    records.forEach((r, i) => (r.body = JSON.stringify(envelopes[i])));
    records.push({ ...structuredClone(records[0]!), messageId: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b', body: JSON.stringify({ ...broken, MessageId: '3d8b9c0a-4e5f-6a7b-9c2d-3e4f5a6b7c8d' }) });
    batch.Records = records;
    const result = await api.invoke(batch, { requestId: 'ric-sqs-sns' });
    expect(result.outcome).toBe('response');
    expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b' }] });
    const first = await untilLogged((l) => l.msg === 'processed' && l.orderId === 'o-sns0');
    expect(first, stdout.slice(-3000)).toMatchObject({
      total: 6,
      source: 'sqs',
      deliveryId: envelopes[0]!.MessageId,
      requestId: `ric-sqs-sns:${records[0]!.messageId}`,
      attributes: { orderType: 'order.created', amount: '12345678901234567890.5', regions: '["eu-west-1","us-east-1"]' },
      binaryAttributes: { digest: '00fffe7f' },
      attributeTypes: { orderType: 'String', amount: 'Number', regions: 'String.Array', digest: 'Binary' },
      sns: { topic: 'arn:aws:sns:eu-west-1:210987654321:orders-topic', messageId: envelopes[0]!.MessageId, subject: 'order created', time: '2025-03-02T12:10:00.000Z' },
    });
    const second = await untilLogged((l) => l.msg === 'processed' && l.orderId === 'o-sns1');
    expect(second, stdout.slice(-3000)).toMatchObject({ deliveryId: envelopes[1]!.MessageId, attributes: {}, sns: { messageId: envelopes[1]!.MessageId } });
    const refused = await untilLogged((l) => l.deliveryId === '3d8b9c0a-4e5f-6a7b-9c2d-3e4f5a6b7c8d' && l.code === 'MALFORMED_EVENT');
    expect(refused, stdout.slice(-3000)).toBeDefined();
  });

  it('answers a Kinesis batch with the sequence number of the first failure and runs nothing after it', async () => {
    const batch = fixture('kinesis-batch.json');
    const records: Json[] = (batch.Records as Json[]).map((record, i) => ({
      ...record,
      kinesis: { ...record.kinesis, data: Buffer.from(JSON.stringify({ orderId: i === 1 ? 'explode' : `o-k${i}`, quantity: 1 })).toString('base64') },
    }));
    batch.Records = records;
    const result = await api.invoke(batch, { requestId: 'ric-kinesis-1' });
    expect(result.outcome).toBe('response');
    expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.kinesis.sequenceNumber }] });
    const scoped = (r: Json): string => `${r.eventSourceARN}/${r.eventID}`;
    const first = await untilLogged((l) => l.msg === 'processed' && l.deliveryId === scoped(records[0]!));
    expect(first, stdout.slice(-3000)).toMatchObject({ requestId: `ric-kinesis-1:${scoped(records[0]!)}`, trigger: 'stream', source: 'kinesis' });
    // Order holds: the record after the failure was not run.
    expect(logLines().some((l) => l.msg === 'processed' && l.deliveryId === scoped(records[2]!))).toBe(false);
  });

  it('runs the user records of a KPL aggregated record (made by aws-kinesis-agg) one by one, and names the aggregated record when one fails', async () => {
    const seqA = '49590338271490256608559692538361571095921575989136588898';
    const seqB = '49590338271490256608559692540925702759324208523137515618';
    const users = ['o-kpl0', 'explode', 'o-kpl2'].map((orderId) => ({ partitionKey: orderId, data: Buffer.from(JSON.stringify({ orderId, quantity: 2 })) }));
    const first = await aggregatedBytes([users[0]!]);
    const second = await aggregatedBytes(users.slice(1));
    const arn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/kpl-orders';
    const records = [kinesisRecord(first.data, first.partitionKey, seqA), kinesisRecord(second.data, second.partitionKey, seqB)].map((r) => ({ ...r, eventSourceARN: arn }));
    const result = await api.invoke({ Records: records }, { requestId: 'ric-kpl-1' });
    expect(result.outcome).toBe('response');
    expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: seqB }] });
    const ran = await untilLogged((l) => l.msg === 'processed' && l.orderId === 'o-kpl0');
    expect(ran, stdout.slice(-3000)).toMatchObject({ deliveryId: `${arn}/shardId-000000000003:${seqA}:0`, requestId: `ric-kpl-1:${arn}/shardId-000000000003:${seqA}:0`, total: 6, source: 'kinesis' });
    // The user record after the failure, inside the same aggregated record, was not run.
    expect(logLines().some((l) => l.msg === 'processed' && l.orderId === 'o-kpl2')).toBe(false);
  });

  it('posts a failing direct invoke to /error with a typed error and no stack of the function', async () => {
    const before = stdout.length;
    const result = await api.invoke({ orderId: 'explode', quantity: 1, note: 'card 4111-1111' }, { requestId: 'ric-direct-1' });
    expect(result.outcome).toBe('error');
    expect(result.body).toEqual({ errorType: 'INTERNAL', errorMessage: 'INTERNAL: Internal error', trace: [expect.any(String)] });
    const posted = JSON.stringify(result.body);
    expect(posted).not.toMatch(/\s+at\s/);
    expect(posted).not.toContain('index.mjs');
    expect(posted).not.toContain('ledger write failed');
    expect(posted).not.toContain('4111');
    // The runtime also sends the error to X-Ray (a header it builds from the stack): no frames there.
    const xray = JSON.parse(String(result.headers['lambda-runtime-function-xray-error-cause'])) as Json;
    expect(xray.exceptions).toEqual([{ type: 'INTERNAL', message: 'INTERNAL: Internal error', stack: [] }]);
    expect(xray.paths).toEqual([]);
    // Nothing the runtime printed about it carries a stack frame of the function either.
    const logged = await untilLogged((l) => l.requestId === 'ric-direct-1' && l.code === 'INTERNAL');
    expect(logged, stdout.slice(-3000)).toMatchObject({ level: 'error', retryable: true });
    // This invocation's output; a frame of the function's file (index.mjs in the task root), not
    // of the runtime's own aws-lambda-ric/index.mjs — it prints those when a poll of the Runtime
    // API fails and is retried on a loaded machine, which says nothing about the function's error.
    const printed = stdout.slice(before);
    expect(printed).not.toMatch(FUNCTION_FRAME);
    expect(printed).not.toContain('4111');
  });

  it('posts invalid direct input to /error as VALIDATION_FAILED', async () => {
    const result = await api.invoke({ orderId: 42 });
    expect(result.outcome).toBe('error');
    expect(result.body).toMatchObject({ errorType: 'VALIDATION_FAILED', errorMessage: 'VALIDATION_FAILED: Input failed validation' });
    expect(result.body.trace).toHaveLength(1);
  });

  // Real timers against the real runtime: what these check is that the answer reaches the Runtime
  // API before Lambda-Runtime-Deadline-Ms. The function's margin (MARGIN_MS in function/index.mjs,
  // 5 s) is the slack the answer has to get here on a loaded machine; 1.5 s before the wrapper
  // answers is the time the runtime has to take the event and start the function.
  const MARGIN_MS = 5_000;

  it('answers DEADLINE_EXCEEDED before the runtime deadline when the function is too slow, and aborts its signal', async () => {
    const deadlineMs = Date.now() + 1_500 + MARGIN_MS;
    const result = await api.invoke({ orderId: 'slow', quantity: 1 }, { requestId: 'ric-slow-1', deadlineMs });
    expect(Date.now()).toBeLessThan(deadlineMs);
    expect(result.outcome).toBe('error');
    expect(result.body).toMatchObject({ errorType: 'DEADLINE_EXCEEDED', trace: [expect.any(String)] });
    expect(await untilLogged((l) => l.msg === 'signal aborted' && l.requestId === 'ric-slow-1'), stdout.slice(-3000)).toBeDefined();
    // The runtime is ready for the next event.
    const after = await api.invoke({ orderId: 'o-after', quantity: 1 });
    expect(after.outcome).toBe('response');
  });

  it('answers DEADLINE_EXCEEDED at the deadline when a plugin hook is too slow, and never starts the function', async () => {
    const deadlineMs = Date.now() + 1_500 + MARGIN_MS;
    const event = { ...fixture('apigw-v2-post.json'), headers: { 'content-type': 'application/json', 'x-route': 'stuck' } };
    const result = await api.invoke(event, { requestId: 'ric-stuck-1', deadlineMs });
    expect(Date.now()).toBeLessThan(deadlineMs);
    expect(result.outcome).toBe('response');
    const res = result.body as Json;
    expect(res.statusCode).toBe(504);
    expect(JSON.parse(res.body as string)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logLines().filter((l) => l.requestId === 'ric-stuck-1' && l.msg === 'function started')).toEqual([]);
  });

  it('sends several values of one header and several cookies the way an HTTP API takes them', async () => {
    const event = { ...fixture('apigw-v2-post.json'), headers: { 'content-type': 'application/json', 'x-route': 'cookies' } };
    const result = await api.invoke(event, { requestId: 'ric-cookies-1' });
    expect(result.outcome).toBe('response');
    expect(result.body).toMatchObject({
      statusCode: 200,
      headers: { link: '</a>; rel="a", </b>; rel="b"', 'content-type': 'application/json' },
      cookies: ['a=1; HttpOnly', 'b=2; Path=/'],
    });
  });

  it('ctx.principal in the runtime: from the authorizer or IAM fields API Gateway and Function URLs write, never from a forged identity header', async () => {
    const whoami = async (file: string, extra: Record<string, string> = {}, change: (event: Json) => void = () => undefined): Promise<unknown> => {
      const event = fixture(`published/${file}`);
      Object.assign(event.headers, { 'x-route': 'whoami', ...extra });
      change(event);
      const result = await api.invoke(event, { requestId: `ric-whoami-${file}` });
      expect(result.outcome).toBe('response');
      return (JSON.parse((result.body as Json).body as string) as Json).principal;
    };
    // id, issuer and source as before; the verified claims, scopes and IAM fields travel with them.
    const cognito = (await whoami('apigw-rest-cognito.json')) as Json;
    expect(cognito).toMatchObject({ id: '4c8d2a1e-90b7-4f36-a2c5-7e1d9b3f6a08', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Qx7Lm2Pz9', source: 'apigw-cognito' });
    expect(cognito.claims).toMatchObject({ 'cognito:username': 'dana', email: 'dana@example.com', token_use: 'id' });
    expect(await whoami('apigw-http-v2-jwt.json')).toMatchObject({ id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d0', issuer: 'https://orders.eu.auth0.com/', source: 'apigw-jwt', scopes: ['orders:write'], claims: { aud: 'https://api.orders.example', scope: 'orders:write' } });
    const iam = (await whoami('function-url-iam.json')) as Json;
    expect(iam).toMatchObject({ id: 'arn:aws:sts::210987654321:assumed-role/orders-worker/worker-17', source: 'aws-iam' });
    // Never the access key id.
    expect(JSON.stringify(iam)).not.toContain('ASIAQ3EXAMPLE6FGHIJ7');
    // The function trusts ALB identity headers; on an API Gateway event they are still a client's.
    expect(await whoami('apigw-http-v2.json', { 'x-amzn-oidc-identity': 'admin' })).toBeNull();
    expect(await whoami('alb-oidc.json')).toMatchObject({ id: '00u1a2b3c4D5e6F7g8h9', issuer: 'https://login.example-idp.com', source: 'alb-oidc' });
    // An HTTP API Lambda authorizer's context keeps a numeric id a number through the runtime's JSON.
    const numericId = (event: Json) => void ((((event.requestContext as Json).authorizer as Json).lambda as Json).principalId = 4217);
    expect(await whoami('apigw-http-v2-lambda-authorizer.json', {}, numericId)).toMatchObject({ id: '4217', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme' } });
  });

  describe('response size: 6 MB through API Gateway, Function URLs and direct invokes, 1 MB through an ALB', () => {
    const httpEvent = (file: string, bytes: number): Json => {
      const event = fixture(file);
      return { ...event, headers: { ...(event.headers as Json), 'x-bytes': String(bytes) } };
    };

    it('answers an HTTP API response over 6 MB with a 500 RESPONSE_TOO_LARGE problem instead of a refused response, and never logs it', async () => {
      const result = await api.invoke(httpEvent('apigw-v2-post.json', 6_400_000), { requestId: 'ric-size-1' });
      expect(result.outcome).toBe('response');
      expect(result.body).toMatchObject({ statusCode: 500, headers: { 'content-type': 'application/problem+json' } });
      expect(JSON.parse((result.body as Json).body as string)).toMatchObject({ status: 500, code: 'RESPONSE_TOO_LARGE' });
      const failed = await untilLogged((l) => l.requestId === 'ric-size-1' && l.msg === 'invocation failed');
      expect(failed).toMatchObject({ code: 'RESPONSE_TOO_LARGE', retryable: false, limit: 6_291_556 });
      expect(failed!.size).toBeGreaterThan(6_400_000);
      // onError saw it, after did not: an idempotency record would be released, not completed.
      expect(logLines().filter((l) => l.requestId === 'ric-size-1').map((l) => l.msg)).toEqual(['onError hook', 'invocation failed']);
      expect(stdout).not.toContain('xxxxxxxx');
    });

    it('passes an HTTP API response just under the 6 MB limit whole', async () => {
      const ok = await api.invoke(httpEvent('apigw-v2-post.json', 6_200_000), { requestId: 'ric-size-2' });
      expect(ok.outcome).toBe('response');
      expect((ok.body as Json).statusCode).toBe(200);
      expect(((ok.body as Json).body as string).length).toBe(6_200_000);
    });

    it('refuses an ALB response over 1 MB that an HTTP API would carry', async () => {
      const alb = await api.invoke(httpEvent('alb-get.json', 1_200_000), { requestId: 'ric-size-3' });
      expect(alb.outcome).toBe('response');
      expect(alb.body).toMatchObject({ statusCode: 500, statusDescription: '500 Internal Server Error' });
      expect(JSON.parse((alb.body as Json).body as string)).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
      expect(await untilLogged((l) => l.requestId === 'ric-size-3' && l.msg === 'invocation failed')).toMatchObject({ limit: 1_000_000 });
      const url = await api.invoke(httpEvent('function-url-get.json', 1_200_000), { requestId: 'ric-size-4' });
      expect((url.body as Json).statusCode).toBe(200);
      const under = await api.invoke(httpEvent('alb-get.json', 990_000), { requestId: 'ric-size-5' });
      expect((under.body as Json).statusCode).toBe(200);
    });

    it('refuses a WebSocket route answer whose body is over the 128 KB a message may carry', async () => {
      const message = (bytes: number): Json => {
        const event = fixture('published/websocket-message.json');
        return { ...event, requestContext: { ...(event.requestContext as Json), routeKey: 'large' }, body: JSON.stringify({ action: 'large', bytes }) };
      };
      const over = await api.invoke(message(128_001), { requestId: 'ric-size-ws-1' });
      expect(over.outcome).toBe('response');
      expect((over.body as Json).statusCode).toBe(500);
      expect(JSON.parse((over.body as Json).body as string)).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
      expect(await untilLogged((l) => l.requestId === 'ric-size-ws-1' && l.msg === 'invocation failed')).toMatchObject({ limit: 128_000, size: 128_001 });
      const at = await api.invoke(message(128_000), { requestId: 'ric-size-ws-2' });
      expect((at.body as Json).statusCode).toBe(200);
      expect(((at.body as Json).body as string).length).toBe(128_000);
    });

    it('posts a direct invoke whose result is over 6 MB to /error as RESPONSE_TOO_LARGE', async () => {
      const result = await api.invoke({ route: 'large', bytes: 6_300_000 }, { requestId: 'ric-size-6' });
      expect(result.outcome).toBe('error');
      expect(result.body).toMatchObject({ errorType: 'RESPONSE_TOO_LARGE', errorMessage: 'RESPONSE_TOO_LARGE: The function result is larger than the platform can send' });
      const ok = await api.invoke({ route: 'large', bytes: 6_000_000 }, { requestId: 'ric-size-7' });
      expect(ok.outcome).toBe('response');
      expect(((ok.body as Json).text as string).length).toBe(6_000_000);
    });
  });

  describe('published sample events (aws-powertools, aws-lambda-go, aws-lambda-java-libs; the function reports what it saw)', () => {
    it('REST API POST with IAM auth (Powertools TypeScript apigw-rest/iam-auth.json): the caller\'s ARN, cookies in multiValueHeaders', async () => {
      const result = await api.invoke(publishedSample('pt-apigw-rest-iam-auth.json'), { requestId: 'ric-sample-1' });
      expect(result.outcome).toBe('response');
      const res = result.body as Json;
      expect(res).toMatchObject({ statusCode: 201, isBase64Encoded: false, multiValueHeaders: { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] } });
      expect(JSON.parse(res.body as string)).toEqual({
        input: {},
        kind: 'http',
        source: 'apigw-v1',
        deliveryId: null,
        principal: { id: 'arn:aws:sts::123456789012:assumed-role/Admin/aamorosi', source: 'aws-iam', claims: { accountId: '123456789012', caller: 'ABCAXZWZ5ZDPNIH6C6ODK:aamorosi', user: 'ABCAXZWZ5ZDPNIH6C6ODK:aamorosi' } },
        method: 'POST',
        path: '/iam',
        query: {},
        sourceIp: '15.248.3.126',
      });
    });

    it('ALB without multi-value headers (aws-lambda-go alb-lambda-target-request-headers-only.json): the query as input; one cookie fits `headers`, two are refused', async () => {
      const result = await api.invoke(publishedSample('lgo-alb-lambda-target-request-headers-only.json'), { requestId: 'ric-sample-2' });
      expect(result.outcome).toBe('response');
      const res = result.body as Json;
      // Two cookies cannot go in an ALB single-value `headers` map (the ALB keeps only the last).
      expect(res).toMatchObject({ statusCode: 500, statusDescription: '500 Internal Server Error', isBase64Encoded: false });
      expect(res.multiValueHeaders).toBeUndefined();
      expect(JSON.parse(res.body as string)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    });

    it('SQS message with a pretty-printed JSON body (aws-lambda-java-libs sqs_event_product.json): the object, keyed by messageId', async () => {
      const result = await api.invoke(publishedSample('jl-sqs-event-product.json'), { requestId: 'ric-sample-3' });
      expect(result.outcome).toBe('response');
      expect(result.body).toEqual({ batchItemFailures: [] });
      const line = await untilLogged((l) => l.msg === 'sample seen' && l.deliveryId === 'd9144555-9a4f-4ec3-99a0-34ce359b4b54');
      expect(line).toMatchObject({ input: { id: 1234, name: 'Product1234', price: 450 }, kind: 'queue', source: 'sqs' });
    });

    it('DynamoDB stream INSERT, MODIFY, REMOVE (aws-lambda-java-libs ddb/dynamo_event.json): the MODIFY fails, its SequenceNumber is the batch item failure', async () => {
      const result = await api.invoke(publishedSample('jl-dynamo-event.json'), { requestId: 'ric-sample-4' });
      expect(result.outcome).toBe('response');
      expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: '4421584500000000017450439092' }] });
      const stream = 'arn:aws:dynamodb:eu-central-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';
      expect(await untilLogged((l) => l.msg === 'sample seen' && l.deliveryId === `${stream}/4421584500000000017450439091`)).toMatchObject({ input: { Message: 'New item!', Id: 101 }, kind: 'change' });
      // The REMOVE after the failed MODIFY never ran: Lambda retries from the failure.
      expect(logLines().some((l) => l.msg === 'sample seen' && l.deliveryId === `${stream}/4421584500000000017450439093`)).toBe(false);
    });
  });

  it('loaded the function without an init error and kept one process throughout', () => {
    expect(api.initErrors).toEqual([]);
    expect(runtime?.exitCode).toBeNull();
    expect(stderr).not.toMatch(/\n\s+at\s/);
  });
});
