/**
 * The deployment files of every example agree with the code they deploy: what `sam deploy`,
 * `gcloud functions deploy`, `func azure functionapp publish` and `wskdeploy` would be given
 * names functions that exist, under the triggers and settings the README promises. (No
 * provider account here: the code itself is run on each provider's runtime by the other tests
 * in this folder; these checks are what keeps the files from drifting away from it.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { root } from '../support/consumer.js';

type Json = Record<string, any>;
const read = (file: string) => readFileSync(join(root, 'examples', file), 'utf8');
/** CloudFormation's short tags (`!Ref`, `!GetAtt`, …) are left unresolved: their values stay as written. */
const yaml = (file: string): Json => parse(read(file), { logLevel: 'silent' });
/** `export { a, b } from`, `export const a`, `exports.a =`. */
const exportsOf = (file: string) => new Set([...read(file).matchAll(/export \{([^}]*)\}|export const (\w+)|exports\.(\w+) =/g)].flatMap((m) => (m[1] ? m[1].split(',').map((s) => s.trim()) : [m[2] ?? m[3]!])));
/** The variables `configFromEnv(z.object({...}), env?)` in an app module requires (no `.default(...)`). */
function requiredConfig(file: string): string[] {
  const block = /configFromEnv\(\s*z\s*\.object\(\{([\s\S]*?)\n\s*\}\),?\s*(?:emptyAsUnset\(\),?\s*)?\)/.exec(read(file))![1]!;
  const required = [...block.matchAll(/^\s*([A-Z_]+): (.*)$/gm)].filter((m) => !m[2]!.includes('.default(')).map((m) => m[1]!);
  if (required.length < 2) throw new Error(`${file}: could not read its configuration schema`);
  return required;
}
const functionsOf = (template: Json) => Object.entries(template.Resources as Json).filter(([, r]) => r.Type === 'AWS::Serverless::Function');

describe.each([
  { example: 'aws-lambda', scheduled: ['sweepOutbox', 'backupOrders', 'restoreDrill'], sqs: ['orderEvents'], app: 'aws-lambda/orders/app.mjs' },
  { example: 'glue', scheduled: [], sqs: ['makeThumbnail', 'recordThumbnail', 'indexImage'], app: 'glue/glue/app.mjs' },
])('examples/$example/template.yaml (SAM)', ({ example, scheduled, sqs, app }) => {
  const template = yaml(`${example}/template.yaml`);
  const exported = exportsOf(`${example}/index.mjs`);
  const handlers = Object.fromEntries(functionsOf(template).map(([, r]) => [String(r.Properties.Handler).replace(/^index\./, ''), r.Properties]));

  it('deploys every function index.mjs exports, from the bundle `npm run build` writes', () => {
    expect(Object.keys(handlers).sort()).toEqual([...exported].sort());
    expect(template.Transform).toBe('AWS::Serverless-2016-10-31');
    expect(template.Globals.Function).toMatchObject({ CodeUri: 'dist/', Runtime: 'nodejs22.x' });
    expect(read(`${example}/scripts/build.mjs`)).toContain("'dist/index.mjs'");
  });

  it('gives every function the configuration its app requires', () => {
    const variables = Object.keys(template.Globals.Function.Environment.Variables);
    for (const name of requiredConfig(app)) expect(variables, name).toContain(name);
  });

  it.each(sqs)('%s consumes SQS with ReportBatchItemFailures', (fn) => {
    const events = Object.values(handlers[fn]!.Events as Json);
    expect(events).toEqual([expect.objectContaining({ Type: 'SQS', Properties: expect.objectContaining({ FunctionResponseTypes: ['ReportBatchItemFailures'] }) })]);
  });

  // (glue has no scheduled function: no test for it rather than a skipped one)
  if (scheduled.length > 0) it('runs the scheduled functions on a schedule', () => {
    for (const fn of scheduled) expect(Object.values(handlers[fn]!.Events as Json), fn).toEqual([expect.objectContaining({ Type: 'Schedule', Properties: { Schedule: expect.stringMatching(/^(rate|cron)\(/) } })]);
  });
});

describe('examples/gcp-functions (package.json + the gcloud commands in README.md)', () => {
  const registered = [...read('gcp-functions/index.mjs').matchAll(/functions\.(http|cloudEvent)\('(\w+)'/g)].map((m) => ({ kind: m[1], name: m[2] }));
  const readme = read('gcp-functions/README.md');
  const deploys = [...readme.matchAll(/^gcloud functions deploy (\w+) --entry-point=(\w+) (--trigger-http|--trigger-topic=([\w-]+))/gm)];

  it('deploys every registered function under its own name, HTTP ones with --trigger-http, CloudEvent ones from a topic', () => {
    expect(JSON.parse(read('gcp-functions/package.json')).main).toBe('index.mjs');
    expect(deploys.map((d) => d[2]).sort()).toEqual(registered.map((r) => r.name).sort());
    for (const d of deploys) {
      expect(d[1]).toBe(d[2]);
      expect(d[3] === '--trigger-http', d[0]).toBe(registered.find((r) => r.name === d[2])!.kind === 'http');
    }
  });

  it('has Cloud Scheduler publish to every topic a function is triggered by, and the topics created', () => {
    const topics = deploys.map((d) => d[4]).filter(Boolean);
    const jobs = [...readme.matchAll(/^gcloud scheduler jobs create pubsub [\w-]+ .*--schedule='[^']+' --topic=([\w-]+)/gm)].map((m) => m[1]);
    expect(jobs.sort()).toEqual([...topics].sort());
    const created = /^for job in ([\w ]+); do gcloud pubsub topics create orders-\$job; done$/m.exec(readme)![1]!.split(' ').map((j) => `orders-${j}`);
    expect(created.sort()).toEqual([...topics].sort());
  });

  it('env.yaml.example names the configuration the app requires (secrets through --set-secrets)', () => {
    const env = Object.keys(yaml('gcp-functions/env.yaml.example'));
    const secrets = [...readme.matchAll(/--set-secrets=([^ "]+)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.split('=')[0]));
    for (const name of requiredConfig('gcp-functions/orders/app.mjs')) expect([...env, ...secrets], name).toContain(name);
  });
});

describe('examples/azure-functions (host.json, local.settings.json.example, v4 registrations)', () => {
  it('host.json is a v2 host file with the extension bundle, and package.json main finds the registrations', () => {
    expect(JSON.parse(read('azure-functions/host.json'))).toMatchObject({ version: '2.0', functionTimeout: '00:05:00', extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle' } });
    expect(JSON.parse(read('azure-functions/package.json')).main).toBe('src/functions/*.mjs');
    expect(read('azure-functions/src/functions/orders.mjs')).toMatch(/app\.http\('createOrder'/);
  });

  it('local.settings.json.example runs the Node.js worker with the configuration the app requires', () => {
    const settings = JSON.parse(read('azure-functions/local.settings.json.example'));
    expect(settings.Values).toMatchObject({ FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsStorage: expect.any(String) });
    for (const name of requiredConfig('azure-functions/orders/app.mjs')) expect(Object.keys(settings.Values), name).toContain(name);
    expect(read('azure-functions/.funcignore')).toContain('local.settings.json');
  });
});

describe('examples/openwhisk/manifest.yaml (wskdeploy) and the zip step', () => {
  const manifest = yaml('openwhisk/manifest.yaml').packages.orders as Json;
  const exported = exportsOf('openwhisk/index.js');
  const pkg = JSON.parse(read('openwhisk/package.json'));

  it('deploys every action index.js exports, from the zip `npm run zip` writes', () => {
    expect(Object.keys(manifest.actions).sort()).toEqual([...exported].sort());
    for (const [name, action] of Object.entries(manifest.actions as Json)) expect(action, name).toMatchObject({ function: 'action.zip', runtime: 'nodejs:22', main: name });
    expect(pkg.scripts.zip).toMatch(/zip -rq action\.zip package\.json index\.js orders node_modules/);
    expect(pkg.main).toBe('index.js');
    expect(manifest.actions.createOrder).toMatchObject({ web: true, annotations: { final: true } });
  });

  it('binds the configuration the app requires, and every rule joins an alarm to an action', () => {
    for (const name of requiredConfig('openwhisk/orders/app.js')) expect(Object.keys(manifest.inputs), name).toContain(name);
    for (const [name, rule] of Object.entries(manifest.rules as Json)) {
      expect(manifest.actions[rule.action], name).toBeDefined();
      expect(manifest.triggers[rule.trigger], name).toMatchObject({ feed: '/whisk.system/alarms/alarm', inputs: { cron: expect.any(String), trigger_payload: { __steadyfn_schedule: expect.any(String) } } });
    }
    const ruled = new Set(Object.values(manifest.rules as Json).map((r) => r.action));
    expect([...ruled].sort()).toEqual(['backupOrders', 'pullOrderEvents', 'restoreDrill', 'sweepOutbox']);
  });
});
