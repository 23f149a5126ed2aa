// One cold start, in a fresh process: loads a function module (imported, or required when it
// is a CommonJS bundle), lets whatever the load started in the background settle (a driver
// loaded with import(), a connect begun in module scope), then — when asked — invokes it once
// as Lambda would, against a real Redis. Prints wall and CPU milliseconds of each phase as JSON.
//
//   node child.mjs <file> <bundled 0|1> <invoke 0|1> <orderId>
//
// CPU time is process.cpuUsage (user + system, every thread of the process: V8's compiler and
// GC threads count too), so time spent waiting for a busy machine's cores does not count.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [file, bundled, invoke, orderId] = process.argv.slice(2);
const require = createRequire(file);

const cpuMs = (usage) => (usage.user + usage.system) / 1000;
const SETTLE_MS = 100;
// Both clocks are read once first: the first read of `performance` loads perf_hooks.
performance.now();
process.cpuUsage();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
const mod = bundled === '1' ? require(file) : await import(pathToFileURL(file).href);
const importWall = performance.now() - wall0;
// What the load started goes on after it returns: give it time to finish, and count its CPU
// as the import's (both sides start a connect in module scope; a lazy entry may start a load).
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const importCpu = cpuMs(process.cpuUsage(cpu0));

const out = { importWall, importCpu };
if (invoke === '1') {
  const context = {
    awsRequestId: `cold-${orderId}`,
    functionName: 'coldstart',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:coldstart',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/coldstart',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
    done() {},
    fail() {},
    succeed() {},
  };
  const cpu1 = process.cpuUsage();
  const wall1 = performance.now();
  const result = await mod.main({ orderId, amount: 42 }, context);
  out.invokeWall = performance.now() - wall1;
  out.invokeCpu = cpuMs(process.cpuUsage(cpu1));
  out.result = result;
  await mod.close?.();
}
// A marker, so whatever the function logged to stdout before is skipped.
process.stdout.write(`\n@@coldstart@@${JSON.stringify(out)}\n`);
process.exit(0);
