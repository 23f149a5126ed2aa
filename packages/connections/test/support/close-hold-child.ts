/**
 * Child process of `review-close-holds-process.test.ts`: a `defineClient` handle whose `close`
 * never settles and holds nothing (a driver whose `end()` waits for a reply that never comes).
 * argv[2]:
 * - `rebuild`: the first client fails its thaw check, so it is replaced and closed in the
 *   background (bounded by a 1 h `closeTimeoutMs`); then nothing is left to do, and the process
 *   must exit on its own — the background close must not hold it.
 * - `close`: `await handle.close()` (bounded by a 300 ms `closeTimeoutMs`): the awaited close
 *   holds the process until its bound, so `closed` is written before the event loop drains.
 */
import { defineClient } from '../../src/index.js';

const scenario = process.argv[2];
let made = 0;
let clock = 0;
const handle = defineClient({
  name: `close-hold-${scenario}`,
  create: async () => ({ n: ++made }),
  ping: async (client: { n: number }) => {
    if (client.n === 1) throw Object.assign(new Error('gone'), { code: 'ECONNRESET' });
  },
  close: () => new Promise<void>(() => undefined),
  isConnectionError: () => true,
  idleThresholdMs: 0,
  // Every use comes 1 s after the last one: each is pinged first.
  now: () => (clock += 1_000),
  closeTimeoutMs: scenario === 'rebuild' ? 3_600_000 : 300,
});

let done = false;
process.on('beforeExit', () => {
  if (done) return;
  process.stdout.write('beforeExit with the close pending\n');
  process.exit(0);
});

await handle.get();
const second = await handle.get();
process.stdout.write(`client ${second.n}\n`);
if (scenario === 'close') {
  await handle.close();
  process.stdout.write('closed\n');
}
done = true;
