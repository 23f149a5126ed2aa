// How the idempotency bench times two contenders against each other, shared by the vitest bench
// (our code from source) and built-driver.mjs (our built code in plain Node), so both modes run
// the same rounds, the same warm-up and the same statistics. Types: timing.d.mts.

/** What built-driver.mjs prints before its JSON result line. */
export const BUILT_MARKER = '@@idempotency-built@@';

/** p50 and mean of samples. */
export function stats(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  return { p50: sorted[Math.floor(sorted.length / 2)], mean: samples.reduce((s, v) => s + v, 0) / samples.length };
}

/** Runs `time(a)` and `time(b)` alternately (order swapped every round), `rounds` times each. */
export async function alternate(a, b, rounds, time) {
  const as = [];
  const bs = [];
  for (let i = 0; i < rounds; i++) {
    const [first, firstInto, second, secondInto] = i % 2 === 0 ? [a, as, b, bs] : [b, bs, a, as];
    firstInto.push(await time(first));
    secondInto.push(await time(second));
  }
  return { as, bs };
}

/** Calls `a` and `b` alternately for `ms` milliseconds (JIT warm-up, as tinybench's time-boxed tasks give both). */
export async function warmUp(a, b, ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await a();
    await b();
  }
}

/** Calls `a` and `b` alternately, `rounds` times each after a warm-up of 100 calls each; wall µs per call. */
export async function interleaved(a, b, rounds) {
  for (let i = 0; i < 100; i++) {
    await a();
    await b();
  }
  const { as, bs } = await alternate(a, b, rounds, async (fn) => {
    const start = performance.now();
    await fn();
    return (performance.now() - start) * 1000;
  });
  return { a: stats(as), b: stats(bs) };
}

/**
 * CPU µs per call of `a` and `b` (process.cpuUsage over batches of `batch` calls, alternated
 * batch by batch, p50 of `rounds` batches each): what this process spends, the client and its
 * socket writes included, without the waits a loaded machine adds to wall time.
 */
export async function cpuInterleaved(a, b, rounds, batch = 20) {
  const { as, bs } = await alternate(a, b, rounds, async (fn) => {
    const start = process.cpuUsage();
    for (let i = 0; i < batch; i++) await fn();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / batch;
  });
  return { a: stats(as).p50, b: stats(bs).p50 };
}

/**
 * The measured comparison against Powertools, the same in both modes: the duplicate path, the
 * first-call path and the local-cache hit, wall time with calls interleaved one by one, then
 * CPU time with batches interleaved. Rounds: duplicate 3000 calls a side (CPU: 300 batches of
 * 20), first call 2000 (CPU: 100 batches), local-cache hit 2000; with `oneCommand`, the
 * duplicate path's one-command prototype as many rounds as the duplicate path.
 */
export async function versusPowertools({ steady, steadyWarm, powertools, duplicateEvent, fresh, oneCommand }) {
  const dup = await interleaved(() => steady(duplicateEvent), () => powertools(duplicateEvent), 3000);
  const firstCall = await interleaved(() => steady(fresh()), () => powertools(fresh()), 2000);
  const warm = await interleaved(() => steadyWarm(duplicateEvent), () => powertools(duplicateEvent), 2000);
  // 300 batches a side: on a shared 2-core machine the p50 of 150 moved by a few hundredths run to run.
  const dupCpu = await cpuInterleaved(() => steady(duplicateEvent), () => powertools(duplicateEvent), 300);
  const firstCpu = await cpuInterleaved(() => steady(fresh()), () => powertools(fresh()), 100);
  if (oneCommand === undefined) return { dup, firstCall, warm, dupCpu, firstCpu };
  // The one-command prototype (contenders.mjs makeOneCommandSteady), as the duplicate path.
  const dupOneCommand = await interleaved(oneCommand, () => powertools(duplicateEvent), 3000);
  const dupOneCommandCpu = await cpuInterleaved(oneCommand, () => powertools(duplicateEvent), 300);
  return { dup, firstCall, warm, dupCpu, firstCpu, dupOneCommand, dupOneCommandCpu };
}

/** The floors (contenders.mjs `makeFloors`) against two bare commands: wall 3000 calls a side, CPU 300 batches. */
export async function floorsVersus({ oneCommand, twoCommands, scriptClaim }) {
  return {
    bare: await interleaved(oneCommand, twoCommands, 3000),
    script: await interleaved(scriptClaim, twoCommands, 3000),
    bareCpu: await cpuInterleaved(oneCommand, twoCommands, 300),
    scriptCpu: await cpuInterleaved(scriptClaim, twoCommands, 300),
  };
}
