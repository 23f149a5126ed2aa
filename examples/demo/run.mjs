// `npm run demo`: the orders application of examples/<provider>/ on all four providers, each
// called the way its provider calls it, against the local services — create an order, repeat
// it (replayed), relay its event to SQS, consume it through the inbox (delivered twice more, as
// SQS may), move it through the workflow, sweep the outbox, take a snapshot backup and verify
// it by a restore drill — with a short account per provider and what each step cost.
// Services come from `bash test/services/services.sh start` (.services/env).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const envFile = new URL('../../.services/env', import.meta.url);
if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}
for (const name of ['REDIS_URL', 'SQS_ENDPOINT', 'S3_ENDPOINT']) {
  if (!process.env[name]) {
    console.error(`${name} is not set: start the services first (bash test/services/services.sh start), or run \`npm run demo\``);
    process.exit(2);
  }
}

const PROVIDERS = [
  ['aws-lambda', 'AWS Lambda', 'HTTP API event, SQS event source mapping, EventBridge schedules'],
  ['gcp-functions', 'Google Cloud Functions', 'Functions Framework over HTTP, Cloud Scheduler ticks as Pub/Sub CloudEvents'],
  ['azure-functions', 'Azure Functions', 'v4 app.http/app.timer registrations, HttpRequest and Timer invocations'],
  ['openwhisk', 'Apache OpenWhisk', 'require()d actions, web-action and alarm activations, bound parameters'],
];

// One process per provider, as each would be its own deployment; all four at once.
const here = fileURLToPath(new URL('.', import.meta.url));
const runs = await Promise.allSettled(
  PROVIDERS.map(([id]) =>
    promisify(execFile)(process.execPath, ['scenario.mjs', id], { cwd: here, timeout: 120_000, maxBuffer: 8 << 20, env: { ...process.env, STEADYFN_LOG_LEVEL: process.env.STEADYFN_LOG_LEVEL ?? 'error' } }),
  ),
);

const n = (x) => x.toLocaleString('en-US');
const cents = (c) => (c / 100).toFixed(2);
const calls = (s) => `Redis ${s.redis}, SQS ${s.sqs}, S3 ${s.s3}`;
// One line per step: what happened, then the store calls it made and its duration.
const line = (label, text, step) => console.log(`  ${label.padEnd(16)} ${step ? `${text.padEnd(80)} ${calls(step).padEnd(24)} ${n(step.ms).padStart(6)} ms` : text}`);

console.log('steadyfn demo — one orders application (examples/<provider>/) on four providers, against the local services');
console.log(`Each step: what happened, the store calls the functions made for it, its duration.\n`);
const problems = [];
const outcomes = [];
for (const [i, [id, name, how]] of PROVIDERS.entries()) {
  const run = runs[i];
  console.log(`${name} (examples/${id}) — ${how}`);
  if (run.status === 'rejected') {
    const output = `${run.reason.stdout ?? ''}${run.reason.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n    ');
    console.log(`  FAILED: ${output || run.reason.message}\n`);
    problems.push(`${name}: the scenario did not complete`);
    continue;
  }
  const { steps } = JSON.parse(run.value.stdout.trim().split('\n').at(-1));
  const s = Object.fromEntries(steps.map((step) => [step.name, step]));
  line('create order', `${s.create.status} ${s.create.orderId} (${cents(s.create.totalCents)}): order + OrderPlaced in one write, ${s.create.eventsSent} relayed`, s.create);
  line('retry, same key', `${s.retry.status} ${s.retry.replayed ? 'replayed' : 'NOT REPLAYED'}, ${s.retry.sameAnswer ? 'same order' : 'A DIFFERENT ORDER'}, ${s.retry.orders} stored${s.retry.redis === 0 ? ' (from the instance cache)' : ''}`, s.retry);
  line('relayed', `${s.relayed.onQueue.join(', ')} on the queue; put back ${s.relayed.redelivered} more times (SQS is at least once)`);
  line('inbox, workflow', `${s.consume.deliveries} deliveries → ${s.consume.status} (${s.consume.steps}/4 steps, ${s.consume.history} events, none twice), ${s.consume.eventsSent} relayed`, s.consume);
  line('outbox sweep', `${s.sweep.pending} events left behind`, s.sweep);
  line('snapshot backup', `${s.backup.records} order → ${s.backup.objects} objects, ${n(s.backup.bytes)} bytes`, s.backup);
  line('restore drill', `${s.drill.ok ? 'passed' : 'FAILED'}: ${s.drill.restored}/${s.backup.records} restored + checked in ${n(s.drill.restoreMs)} ms, scratch ${s.drill.leftovers === 0 ? 'removed' : 'LEFT BEHIND'}`, s.drill);
  const total = steps.reduce((t, step) => ({ redis: t.redis + step.redis, sqs: t.sqs + step.sqs, s3: t.s3 + step.s3, eventsSent: t.eventsSent + step.eventsSent }), { redis: 0, sqs: 0, s3: 0, eventsSent: 0 });
  line('in all', `${total.redis + total.sqs + total.s3} store calls (${calls(total)}), ${total.eventsSent} events relayed, ${s.backup.objects} objects (${n(s.backup.bytes)} bytes) backed up, drill ${n(s.drill.restoreMs)} ms`);
  console.log('');

  const outcome = {
    created: s.create.status === 201 && s.create.totalCents === 2500,
    replayed: s.retry.status === 201 && s.retry.replayed && s.retry.sameAnswer && s.retry.orders === 1,
    relayed: s.relayed.onQueue.join() === 'OrderPlaced' && s.create.eventsSent === 1 && s.consume.eventsSent === 3,
    workflow: s.consume.status === 'dispatched' && s.consume.history === 4 && s.consume.steps === 4 && s.consume.deliveries === 5,
    swept: s.sweep.pending === 0,
    backedUp: s.backup.records === 1 && s.backup.objects > 0,
    drilled: s.drill.ok && s.drill.restored === 1 && s.drill.leftovers === 0,
  };
  for (const [check, ok] of Object.entries(outcome)) if (!ok) problems.push(`${name}: ${check} is not as expected`);
  outcomes.push(outcome);
}

if (problems.length > 0) {
  console.log(`Problems:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`All ${outcomes.length} providers ran the same application to the same result: one order, replayed on retry, four events relayed and each handled once, a backup that restored.`);
