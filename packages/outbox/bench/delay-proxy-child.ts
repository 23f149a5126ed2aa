/**
 * The shared delay proxy (`startProxy` of test/support/proxy.ts) in a process of its
 * own, for relay.bench.ts's distance view: in the bench's process its timers would wait behind
 * the client's synchronous work, so a contender's CPU would also hold its requests back on the
 * "network" — which a real network does not do. Bundled by `bundleChild` and run with plain node.
 *
 *   node child.mjs <host> <port> <delay ms each way>   → prints {"port": n}, stops on SIGTERM
 */
import { startProxy } from '../../../test/support/proxy.js';

const [host, port, delay] = process.argv.slice(2);
const proxy = await startProxy(host!, Number(port), Number(delay));
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
process.on('SIGTERM', () => void proxy.cut().finally(() => process.exit(0)));
