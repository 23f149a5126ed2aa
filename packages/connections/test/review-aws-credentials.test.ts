/**
 * Review finding: `s3()` / `sqs()` in a deployment with no AWS credentials anywhere (no
 * environment variables, no profile or shared files, no web identity token, no container or
 * instance metadata endpoint to ask) failed every command with the SDK's
 * `CredentialsProviderError` "Could not load credentials from any providers", which the
 * invocation answered as the retryable `INTERNAL`. It is the deployment's configuration: a
 * terminal `CONFIG_INVALID` (field `config.credentials`) saying the credentials could not be
 * found. A credential fetch from a metadata endpoint that fails (here: instance metadata on a
 * closed port) stays retryable — the chain ends with the same SDK error, so it cannot be told
 * apart from the error alone (src/clients/aws.ts `noCredentialsAnywhere`).
 */
import { createServer } from 'node:net';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { s3 } from '../src/s3.js';
import { sqs } from '../src/sqs.js';

const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_EC2_METADATA_DISABLED', 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
] as const;
let saved: Record<string, string | undefined> = {};

beforeEach(() => {
  saved = Object.fromEntries(CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of CREDENTIAL_VARIABLES) delete process.env[name];
  process.env.AWS_CONFIG_FILE = '/nonexistent/steadyfn-review-aws-credentials-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/steadyfn-review-aws-credentials';
});
afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await closeAll();
});

/** Runs a function that sends `command` through `ctx.aws`; resolves to the rejection (or result) and the log lines. */
async function run(aws: ReturnType<typeof s3> | ReturnType<typeof sqs>, command: object): Promise<{ outcome: unknown; thrown: unknown; text: string }> {
  const lines: string[] = [];
  let thrown: unknown;
  const main = handler({ use: [connections({ aws }, { closeOnSigterm: false })], logSink: (line) => void lines.push(line) }, async (_input: unknown, ctx) => {
    await (ctx.aws as { send(c: object): Promise<unknown> }).send(command).catch((err: unknown) => {
      thrown = err;
      throw err;
    });
    return 'sent';
  });
  const outcome = await main.invoke({}).catch((e: unknown) => e);
  return { outcome, thrown, text: lines.join('\n') };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const makers = [
  ['s3', () => s3({ name: 'review-s3-no-credentials', config: { endpoint: process.env.S3_ENDPOINT, forcePathStyle: true, region: 'us-east-1' } }), new ListBucketsCommand({})],
  ['sqs', () => sqs({ name: 'review-sqs-no-credentials', config: { endpoint: process.env.SQS_ENDPOINT, region: 'us-east-1' } }), new ListQueuesCommand({})],
] as const;

describe('AWS clients without credentials (moto)', () => {
  it.each(makers)('%s(): no credentials anywhere (instance metadata disabled) is a terminal CONFIG_INVALID saying so', async (_name, make, command) => {
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const { outcome, thrown, text } = await run(make(), command);
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    const failed = text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
    expect(failed).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.credentials' });
    expect(thrown).toMatchObject({ name: 'ConfigurationError', field: 'config.credentials' });
    expect((thrown as Error).message).toMatch(/^(s3|sqs)\(\): could not find AWS credentials/);
    expect(text).not.toMatch(/\s+at .*\.js:\d+/);
  });

  it('a credential fetch from instance metadata that fails (closed port) stays retryable', async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
    const { outcome } = await run(makers[0][1](), makers[0][2]);
    expect(outcome).toMatchObject({ retryable: true });
    expect(outcome).not.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('credentials in the environment still send', async () => {
    process.env.AWS_ACCESS_KEY_ID = saved.AWS_ACCESS_KEY_ID ?? 'test';
    process.env.AWS_SECRET_ACCESS_KEY = saved.AWS_SECRET_ACCESS_KEY ?? 'test';
    const { outcome } = await run(makers[0][1](), makers[0][2]);
    expect(outcome).toBe('sent');
  });
});
