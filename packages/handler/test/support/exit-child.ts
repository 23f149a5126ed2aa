/**
 * Child process of `signal-lazy.test.ts`: warm invocations with a deadline an hour away, some
 * reading `ctx.signal` (through plugins and the function) and some not, then nothing more. The
 * process must end on its own: no timer or listener of the deadline may keep it alive.
 */
import { handler, type Plugin } from '../../src/index.js';

const lambdaContext = { awsRequestId: 'r', functionName: 'exit-child', getRemainingTimeInMillis: () => 3_600_000 };
const silent = { logSink: () => undefined };
const member = { member: 1 };
const plugin: Plugin<{ member: number }> = { name: 'p', extend: () => member, after: () => undefined, finally: async () => undefined };

const plain = handler(silent, async () => 'v');
const reading = handler(silent, async (_input, ctx) => (ctx.signal.aborted ? 'x' : 'v'));
const listening = handler(silent, async (_input, ctx) => {
  ctx.signal.addEventListener('abort', () => undefined);
  return 'v';
});
const withPlugin = handler({ use: [plugin], ...silent }, async (_input, ctx) => ctx.member);
const withPluginReading = handler({ use: [plugin], ...silent }, async (_input, ctx) => (ctx.signal.aborted ? 0 : ctx.member));

for (let i = 0; i < 50; i++) {
  await plain.aws({}, lambdaContext);
  await reading.aws({}, lambdaContext);
  await listening.aws({}, lambdaContext);
  await withPlugin.aws({}, lambdaContext);
  await withPluginReading.aws({}, lambdaContext);
}
process.stdout.write('done\n');
