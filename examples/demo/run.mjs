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
const calls = (s) => `${s.redis + s.sqs + s.s3} store calls (Redis ${s.redis}, SQS ${s.sqs}, S3 ${s.s3})`;
const line = (label, text, ms) => console.log(`  ${label.padEnd(16)} ${text}${ms === undefined ? '' : `  [${n(ms)} ms]`}`);

console.log('steadyfn demo — one orders application (examples/<provider>/) on four providers, against the local services\n');
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
  line('create order', `${s.create.status} ${s.create.orderId}, total ${cents(s.create.totalCents)}; order + OrderPlaced in one write, ${s.create.eventsSent} event relayed; ${calls(s.create)}`, s.create.ms);
  line('retry, same key', `${s.retry.status}${s.retry.replayed ? ' replayed (Idempotency-Replayed: true)' : ' NOT replayed'}, ${s.retry.sameAnswer ? 'the same order' : 'A DIFFERENT ORDER'}, ${s.retry.orders} order stored; ${s.retry.redis === 0 ? 'answered from the instance\'s cache of completed results, 0 store calls' : calls(s.retry)}`, s.retry.ms);
  line('on the queue', `${s.relayed.onQueue.join(', ')}, then delivered ${s.relayed.redelivered} more times (SQS is at least once)`);
  line('inbox, workflow', `${s.consume.deliveries} deliveries handled; the order went placed → validated → paid → dispatched (${s.consume.steps} of 4 steps stamped), ${s.consume.history} events in its history (the duplicates ran no step twice), ${s.consume.eventsSent} events relayed; ${calls(s.consume)}`, s.consume.ms);
  line('outbox sweep', `${s.sweep.pending} events left behind; ${calls(s.sweep)}`, s.sweep.ms);
  line('snapshot backup', `${s.backup.records} order → ${s.backup.objects} objects written, ${n(s.backup.bytes)} bytes backed up; ${calls(s.backup)}`, s.backup.ms);
  line('restore drill', `${s.drill.ok ? 'passed' : 'FAILED'}: ${s.drill.restored} of ${s.backup.records} restored and checked against the manifest in ${n(s.drill.restoreMs)} ms, scratch ${s.drill.leftovers === 0 ? 'removed' : 'LEFT BEHIND'}; ${calls(s.drill)}`, s.drill.ms);
  const total = steps.reduce((t, step) => ({ redis: t.redis + step.redis, sqs: t.sqs + step.sqs, s3: t.s3 + step.s3, eventsSent: t.eventsSent + step.eventsSent }), { redis: 0, sqs: 0, s3: 0, eventsSent: 0 });
  line('in all', `${calls(total)}, ${total.eventsSent} events relayed, ${s.backup.objects} objects (${n(s.backup.bytes)} bytes) backed up, drill ${n(s.drill.restoreMs)} ms`);
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
