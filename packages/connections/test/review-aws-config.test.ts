/**
 * Review finding: `s3()` / `sqs()` built with a configuration the SDK cannot use — no region
 * anywhere (no `config.region`, `AWS_REGION`, `AWS_DEFAULT_REGION` or shared config file), or an
 * `endpoint` that is not a URL — were handed to the function as healthy clients; every command
 * then failed with a bare `Error` ("Region is missing") or `TypeError` (`ERR_INVALID_URL`),
 * which the invocation answered as the retryable `INTERNAL`, logged as `"cause":"Error"` with
 * nothing an operator could act on. They are the same terminal `CONFIG_INVALID` as the other
 * factories' bad configuration now, at first use, naming the option, and nothing is sent. So is
 * a `config` the SDK's constructor throws on (`region: ''`), which was `CONNECTION_UNAVAILABLE`.
 */
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { s3 } from '../src/s3.js';
import { sqs } from '../src/sqs.js';

const REGION_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'AWS_PROFILE'] as const;
let saved: Record<string, string | undefined> = {};

beforeEach(() => {
  saved = Object.fromEntries(REGION_VARIABLES.map((name) => [name, process.env[name]]));
});
afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await closeAll();
});

/** No region from any source the SDK reads (a shared config file that does not exist). */
function noRegionAnywhere(): void {
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent/steadyfn-review-aws-config';
}

/** Runs a function that sends `command` through `ctx.aws`; resolves to the rejection (or result) and the log lines. */
async function run(aws: ReturnType<typeof s3> | ReturnType<typeof sqs>, command: object): Promise<{ outcome: unknown; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const main = handler({ use: [connections({ aws })], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (_input: unknown, ctx) => {
    await (ctx.aws as { send(c: object): Promise<unknown> }).send(command);
    return 'sent';
  });
  const outcome = await main.invoke({}).catch((e: unknown) => e);
  return { outcome, lines };
}

describe('AWS clients with a configuration the SDK cannot use', () => {
  it('s3(): no region anywhere is a terminal CONFIG_INVALID naming config.region, logged with why', async () => {
    noRegionAnywhere();
    const { outcome, lines } = await run(s3({ name: 'review-s3-no-region', config: { endpoint: process.env.S3_ENDPOINT, forcePathStyle: true } }), new ListBucketsCommand({}));
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(lines.find((l) => l.msg === 'connections: client cannot be created')).toMatchObject({ client: 'review-s3-no-region', code: 'CONFIG_INVALID' });
  });

  it('sqs(): the same', async () => {
    noRegionAnywhere();
    const { outcome } = await run(sqs({ name: 'review-sqs-no-region', config: { endpoint: process.env.SQS_ENDPOINT } }), new ListQueuesCommand({}));
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
  });

  it('an endpoint that is not a URL is a terminal CONFIG_INVALID naming config.endpoint', async () => {
    const { outcome, lines } = await run(s3({ name: 'review-s3-endpoint', config: { endpoint: 'not a url', region: 'us-east-1' } }), new ListBucketsCommand({}));
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(lines.find((l) => l.msg === 'invocation failed')).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.endpoint' });
  });

  it.each([
    ['s3', () => s3({ name: 'review-s3-empty-region', config: { region: '', endpoint: process.env.S3_ENDPOINT, forcePathStyle: true } }), new ListBucketsCommand({})],
    ['sqs', () => sqs({ name: 'review-sqs-empty-region', config: { region: '', endpoint: process.env.SQS_ENDPOINT } }), new ListQueuesCommand({})],
  ] as const)('%s(): an empty config.region (the SDK constructor throws "Region is missing") is a terminal CONFIG_INVALID naming config.region, not a retryable CONNECTION_UNAVAILABLE', async (_name, make, command) => {
    const { outcome, lines } = await run(make(), command);
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(lines.find((l) => l.msg === 'invocation failed')).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.region' });
    expect(lines.find((l) => l.msg === 'connections: client cannot be created')?.reason).toMatch(/Region is missing/);
  });

  it('a usable configuration still sends (moto)', async () => {
    const { outcome } = await run(s3({ name: 'review-s3-ok', config: { endpoint: process.env.S3_ENDPOINT, forcePathStyle: true, region: 'us-east-1' } }), new ListBucketsCommand({}));
    expect(outcome).toBe('sent');
  });
});
