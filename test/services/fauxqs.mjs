// Runs fauxqs (SQS/SNS/S3 emulator, npm) as the second SQS server, bound to 127.0.0.1 only:
// its CLI always listens on 0.0.0.0, so the one listen call is redirected to loopback.
//   node fauxqs.mjs <path to fauxqs/dist/app.js> <port>
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const [appPath, port] = process.argv.slice(2);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (options, ...rest) {
  if (options && typeof options === 'object' && options.host === '0.0.0.0') options = { ...options, host: '127.0.0.1' };
  return listen.call(this, options, ...rest);
};
const { startFauxqs } = await import(pathToFileURL(appPath).href);
const server = await startFauxqs({ port: Number(port), logger: false });
console.log(`fauxqs listening on ${server.address}`);
const stop = () => server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
