// Counts what a provider's functions ask of the stores, in this process: Redis commands (every
// command ioredis sends, pipelined ones included, a Lua script call counting once), and the
// SQS and S3 requests of the AWS SDK clients, by command. The examples load both the ES module
// and the CommonJS builds of the SDK (OpenWhisk's is CommonJS), so both are counted.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** Running totals; read them before and after a step. */
export const counts = { redis: 0, sqs: 0, s3: 0, eventsSent: 0, messagesDeleted: 0 };

/** The demo's own clients (its checks of the stores) carry this mark and are not counted. */
export const DEMO = Symbol.for('steadyfn.demo.client');

const { Redis } = require('ioredis');
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (...args) {
  if (!this[DEMO]) counts.redis++;
  return sendCommand.apply(this, args);
};

const patched = new Set();
function countSends(Client, key) {
  if (patched.has(Client)) return; // the SDK's `import` may resolve to its CommonJS build
  patched.add(Client);
  const send = Client.prototype.send;
  Client.prototype.send = function (command, ...rest) {
    if (this[DEMO]) return send.call(this, command, ...rest);
    counts[key]++;
    const name = command?.constructor?.name;
    if (name === 'SendMessageCommand') counts.eventsSent++;
    if (name === 'SendMessageBatchCommand') counts.eventsSent += command.input?.Entries?.length ?? 0;
    if (name === 'DeleteMessageCommand') counts.messagesDeleted++;
    if (name === 'DeleteMessageBatchCommand') counts.messagesDeleted += command.input?.Entries?.length ?? 0;
    return send.call(this, command, ...rest);
  };
}
for (const load of [require, (name) => import(name)]) {
  countSends((await load('@aws-sdk/client-sqs')).SQSClient, 'sqs');
  countSends((await load('@aws-sdk/client-s3')).S3Client, 's3');
}

/** What happened between `before` (a copy of `counts`) and now. */
export function since(before) {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v - before[k]]));
}
