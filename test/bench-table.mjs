// Prints the one table `npm run bench` ends with: the ratios the issues name, as the benches of
// this run measured them (.services/bench/<key>.json, written by test/support/bench-results.ts).
// A measure whose bench did not run in this run (skipped, failed, filtered out) is shown as not
// run, never with an older number.
//
//   node test/bench-table.mjs [run-id]     (run-id: STEADYFN_BENCH_RUN of the bench run)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../.services/bench/', import.meta.url));
const run = process.argv[2] ?? process.env.STEADYFN_BENCH_RUN;

/** The measures the issues ask for, in the order they are read. */
const MEASURES = [
  { key: 'handler.overhead.direct', what: 'wrapper overhead, direct call', bench: 'handler/bench/overhead', goal: '≤ +2 µs' },
  { key: 'handler.overhead.lambda', what: 'wrapper overhead, Lambda invoke with a deadline', bench: 'handler/bench/overhead', goal: '≤ +2 µs' },
  { key: 'handler.overhead.http', what: 'wrapper overhead, Lambda HTTP JSON POST', bench: 'handler/bench/overhead', goal: '' },
  { key: 'handler.form-decode.utf8', what: 'form decoding, UTF-8 form vs URLSearchParams', bench: 'handler/bench/form-decode', goal: '' },
  { key: 'handler.form-decode.shift_jis', what: 'form decoding, Shift_JIS form vs URLSearchParams', bench: 'handler/bench/form-decode', goal: '' },
  { key: 'handler.coldstart.unbundled', what: 'cold start vs middy + Powertools, unbundled', bench: 'handler/bench/coldstart', goal: '≤ 0.45×' },
  { key: 'handler.coldstart.bundled', what: 'cold start vs middy + Powertools, esbuild bundle', bench: 'handler/bench/coldstart', goal: '≤ 0.6×' },
  { key: 'connections.warm.plugin', what: 'connections plugin, warm invocation', bench: 'connections/bench/warm-overhead', goal: '≤ +3 µs' },
  { key: 'connections.warm.get', what: 'connections, GET through ctx.redis vs bare GET', bench: 'connections/bench/warm-overhead', goal: '≤ +3 µs' },
  { key: 'idempotency.duplicate', what: 'idempotency duplicate path vs Powertools', bench: 'idempotency/bench/idempotency', goal: '≤ 0.6×' },
  { key: 'idempotency.first', what: 'idempotency first call vs Powertools', bench: 'idempotency/bench/idempotency', goal: '' },
  { key: 'idempotency.duplicate.source', what: 'idempotency duplicate path vs Powertools, from source under vitest', bench: 'idempotency/bench/idempotency', goal: '' },
  { key: 'idempotency.first.source', what: 'idempotency first call vs Powertools, from source under vitest', bench: 'idempotency/bench/idempotency', goal: '' },
  { key: 'idempotency.scope.principal', what: "idempotency duplicate, keys scoped per caller vs scope 'none'", bench: 'idempotency/bench/scope', goal: '' },
  { key: 'lease.redis', what: 'lease claim + settle vs old store, Redis', bench: 'lease/bench/lease', goal: '' },
  { key: 'lease.ferretdb', what: 'lease claim + settle vs old store, FerretDB 5k', bench: 'lease/bench/lease', goal: '' },
  { key: 'state.cold.local', what: 'state cold load, 4 sources vs slowest alone', bench: 'state/bench/load', goal: '≤ 1.2×' },
  { key: 'state.cold.remote', what: 'state cold load, stores 5 ms away', bench: 'state/bench/load', goal: '≤ 1.2×' },
  { key: 'state.warm.calls', what: 'state store calls per warm invocation', bench: 'state/bench/load', goal: '0' },
  { key: 'state.snapshot.mongo.quiet', what: 'state hydrate quiet revalidation, mongoSnapshot check vs full snapshot read', bench: 'state/bench/snapshot-quiet', goal: '' },
  { key: 'state.snapshot.mongo.version', what: 'state hydrate quiet revalidation, mongoSnapshot versionDocument vs full snapshot read', bench: 'state/bench/snapshot-quiet', goal: '' },
  { key: 'outbox.relay.naive', what: 'relay throughput vs naive relay', bench: 'outbox/bench/relay', goal: '≥ 8×' },
  { key: 'outbox.relay.raw', what: 'relay throughput vs raw batch loop', bench: 'outbox/bench/relay', goal: '≥ 0.8×' },
  { key: 'outbox.relay.raw-minimal', what: 'relay throughput vs raw batch loop, one attribute per message', bench: 'outbox/bench/relay', goal: '' },
  { key: 'outbox.relay.sqs-producer', what: 'relay throughput vs sqs-producer', bench: 'outbox/bench/relay', goal: '' },
  { key: 'outbox.relay.distance.naive', what: 'relay throughput vs naive relay, SQS behind a delay proxy', bench: 'outbox/bench/relay', goal: '≥ 8×' },
  { key: 'outbox.relay.distance.raw', what: 'relay throughput vs raw batch loop, SQS behind a delay proxy', bench: 'outbox/bench/relay', goal: '≥ 0.8×' },
  { key: 'outbox.sender.raw', what: 'SQS sender vs raw SendMessageBatch', bench: 'outbox/bench/sqs-sender', goal: '≥ 0.8×' },
  { key: 'outbox.sender.sqs-producer', what: 'SQS sender vs sqs-producer', bench: 'outbox/bench/sqs-sender', goal: '' },
  { key: 'backup.snapshot', what: 'backup throughput vs raw drain/upload', bench: 'backup/bench/snapshot', goal: '≥ 0.8×' },
  { key: 'backup.rss', what: 'backup peak RSS, 10× the documents', bench: 'backup/bench/rss', goal: '≤ +20 MiB' },
  { key: 'backup.restore', what: 'restore throughput vs raw drain', bench: 'backup/bench/snapshot', goal: '' },
];

function read() {
  if (!existsSync(dir)) return new Map();
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(`${dir}${f}`, 'utf8')))
      .filter((r) => run === undefined || r.run === run)
      .map((r) => [r.key, r]),
  );
}

function format(r) {
  const digits = r.unit === '×' ? 2 : r.unit === 'calls' ? 3 : 1;
  const value = r.value.toFixed(digits);
  return r.unit === '×' ? `${value}×` : r.unit === 'µs' ? `${r.value >= 0 ? '+' : ''}${value} µs` : `${value} ${r.unit}`;
}

const results = read();
const known = new Set(MEASURES.map((m) => m.key));
const rows = [
  ...MEASURES.map((m) => {
    const r = results.get(m.key);
    return [m.what, r ? format(r) : 'did not run', m.goal, r ? r.detail : `no result from packages/${m.bench}.bench.ts in this run`];
  }),
  ...[...results.values()].filter((r) => !known.has(r.key)).map((r) => [r.key, format(r), '', r.detail]),
];
const header = ['measure', 'result', 'goal', 'against, and how'];
const width = [0, 1, 2].map((i) => Math.max(header[i].length, ...rows.map((row) => row[i].length)));
const line = (row) => `${row.slice(0, 3).map((cell, i) => cell.padEnd(width[i])).join(' │ ')} │ ${row[3]}`;
console.log(`\nsteadyfn benches${run ? ` (run ${run})` : ''}: ratios against a baseline measured in the same run`);
console.log(line(header));
console.log(`${width.map((w) => '─'.repeat(w)).join('─┼─')}─┼─${'─'.repeat(16)}`);
for (const row of rows) console.log(line(row));
const missing = MEASURES.filter((m) => !results.has(m.key)).length;
if (missing > 0) console.log(`\n${missing} of ${MEASURES.length} measures did not run: their bench was skipped, failed or filtered out (see its output above).`);
