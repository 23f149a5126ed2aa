/**
 * Every example started without its configuration says which variables are missing and what
 * each must be, as `CONFIG_INVALID` (`configFromEnv` of @steadyfn/handler): a module-scope
 * `.parse(process.env)` failed the start with a raw ZodError ("expected string, received
 * undefined"), and the seed scripts fell back to a local Redis. A malformed variable holding a
 * secret is named, never echoed. Each module is loaded from this checkout in its own Node
 * process with no configuration in its environment (examples/demo/resolve.mjs resolves the
 * packages an example imports, as the demo does).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from '../support/consumer.js';

const run = promisify(execFile);
const hook = join(root, 'examples/demo/resolve.mjs');
const SECRET = 'pw-hunter2-s3cret';

/** Loads `module` (from examples/) with only PATH and `env` set; prints the refusal as one JSON line. */
async function refusal(code: string, env: Record<string, string> = {}): Promise<{ name?: string; code?: string; message?: string; error?: { code?: string; message?: string } }> {
  const { stdout } = await run(process.execPath, ['--import', hook, '--input-type=module', '-e', code], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as never;
}

const load = (module: string) =>
  `try { await import(${JSON.stringify(join(root, 'examples', module))}); console.log('{}'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;

const ORDERS = ['REDIS_URL is not set (expected a redis:// or rediss:// URL', 'ORDER_EVENTS_QUEUE_URL is not set (expected string in url format)', 'BACKUP_BUCKET is not set (expected string of at least 3 characters)'];
const MODULES: Array<[string, string[]]> = [
  ['aws-lambda/orders/app.mjs', ORDERS],
  ['gcp-functions/orders/app.mjs', ORDERS],
  ['azure-functions/orders/app.mjs', ORDERS],
  ['openwhisk/orders/app.js', ORDERS],
  ['glue/glue/app.mjs', ['REDIS_URL is not set (expected a redis:// or rediss:// URL', 'MONGODB_URI is not set (expected a mongodb:// URL', 'IMAGE_EVENTS_QUEUE_URL is not set (expected string in url format)']],
  ...['aws-lambda', 'gcp-functions', 'azure-functions', 'openwhisk'].map((e): [string, string[]] => [`${e}/scripts/seed.mjs`, ['REDIS_URL is not set (expected a redis:// or rediss:// URL']]),
];

describe('the examples without their configuration', () => {
  it.concurrent.each(MODULES)('%s names each missing variable and what it must be', async (module, mentions) => {
    const error = await refusal(load(module));
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID' });
    for (const text of mentions) expect(error.message).toContain(text);
  }, 60_000);

  it.concurrent.each(['aws-lambda/orders/app.mjs', 'glue/glue/app.mjs'])('%s names a malformed REDIS_URL without echoing its password', async (module) => {
    const error = await refusal(load(module), { REDIS_URL: `http://:${SECRET}@cache.internal:6379` });
    expect(error.message).toContain('REDIS_URL is invalid (expected a redis:// or rediss:// URL');
    expect(error.message).not.toContain(SECRET);
  }, 60_000);

  it.concurrent.each(['aws-lambda/orders/app.mjs', 'glue/glue/app.mjs'])('%s gives an empty variable its default, not the 0 zod coerces it to', async (module) => {
    const env = { REDIS_URL: 'redis://127.0.0.1:1', MONGODB_URI: 'mongodb://127.0.0.1:1', ORDER_EVENTS_QUEUE_URL: 'https://sqs.example/q', IMAGE_EVENTS_QUEUE_URL: 'https://sqs.example/q', BACKUP_BUCKET: 'bkt', OUTBOX_SWEEP_GRACE_MS: '', THUMBNAIL_WIDTH: '' };
    const code = `const m = await import(${JSON.stringify(join(root, 'examples', module))}); console.log(JSON.stringify({ message: JSON.stringify(m.config) })); process.exit(0);`;
    const config = JSON.parse((await refusal(code, env)).message ?? '{}') as Record<string, unknown>;
    expect(config[module.startsWith('glue') ? 'THUMBNAIL_WIDTH' : 'OUTBOX_SWEEP_GRACE_MS']).toBe(module.startsWith('glue') ? 160 : 5_000);
  }, 60_000);

  it('an OpenWhisk action answers { error: CONFIG_INVALID } naming each parameter, never a value', async () => {
    const code = `import { createRequire } from 'node:module';
      const action = createRequire(${JSON.stringify(join(root, 'examples/openwhisk/index.js'))})(${JSON.stringify(join(root, 'examples/openwhisk/index.js'))});
      console.log(JSON.stringify(await action.pullOrderEvents({ REDIS_URL: 'http://:${SECRET}@cache:6379' })));`;
    const answer = await refusal(code);
    expect(answer.error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(answer.error?.message).toContain('REDIS_URL is invalid (expected a redis:// or rediss:// URL');
    expect(answer.error?.message).toContain('ORDER_EVENTS_QUEUE_URL is not set (expected string in url format)');
    expect(JSON.stringify(answer)).not.toContain(SECRET);
  }, 60_000);
});
