/**
 * Child process of `review-deadline-holds-process.test.ts`: a function awaiting a promise that
 * holds no socket or timer (an event never emitted), with little time left. The deadline must
 * answer (DEADLINE_EXCEEDED) before the event loop drains: `beforeExit` first means the process
 * would have ended — and the Lambda runtime answered for us — with the invocation unanswered.
 * argv[2]: `stuck` (that invocation), `timeout` (`withTimeout` bounding such a promise), or
 * `idle` (one invocation that finished, one cut off at its deadline whose work never settles,
 * then nothing: the process must exit on its own).
 */
import { handler } from '../../src/index.js';
import { withTimeout } from '../../src/internal.js';

const scenario = process.argv[2];
const lambdaContext = (ms: number) => ({ awsRequestId: 'r', functionName: 'hold-child', getRemainingTimeInMillis: () => ms });
const silent = { logSink: () => undefined, deadlineMarginMs: 100 };
const never = handler(silent, () => new Promise<never>(() => undefined));

let answered = false;
process.on('beforeExit', () => {
  if (answered || scenario === 'idle') return;
  process.stdout.write('beforeExit with the invocation pending\n');
  process.exit(0);
});

const outcome = (call: Promise<unknown>): Promise<string> =>
  call.then(
    (value) => `resolved ${JSON.stringify(value)}`,
    (error: { code?: string }) => `rejected ${error.code}`,
  );

if (scenario === 'stuck' || scenario === 'timeout') {
  const bounded = (): Promise<never> => withTimeout(new Promise<never>(() => undefined), 300, () => Object.assign(new Error('bound'), { code: 'TIMED_OUT' }));
  const line = await outcome(scenario === 'stuck' ? never.aws({}, lambdaContext(1_500)) : bounded());
  answered = true;
  process.stdout.write(`${line}\n`);
} else {
  const done = handler(silent, async () => 'v');
  process.stdout.write(`${await outcome(done.aws({}, lambdaContext(3_600_000)))}\n`);
  process.stdout.write(`${await outcome(never.aws({}, lambdaContext(600)))}\n`);
}
