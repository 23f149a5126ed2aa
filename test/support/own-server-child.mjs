// A test process owning a redis-server (startRedis) that ends without disposing it, as a failed
// test's worker does (for servers.test.ts). Run with node --experimental-transform-types.
// argv[2]: 'running' (left running: ends by the parent's SIGTERM, as Vitest ends its workers),
// 'stopped' (stopped, never disposed, then exits), 'throw' (an uncaught error ends it).
import './register-ts.mjs';
import { existsSync } from 'node:fs';

const { startRedis } = await import('./servers.js');
const server = await startRedis();
const how = process.argv[2];
if (how === 'stopped') await server.stop();
process.stdout.write(`${JSON.stringify({ dir: server.dir, port: server.port, held: existsSync(server.dir) })}\n`);
if (how === 'throw') throw new Error('a failing test');
if (how === 'running') setInterval(() => undefined, 60_000);
