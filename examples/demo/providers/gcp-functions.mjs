// examples/gcp-functions as Cloud Functions serves it: index.mjs registers its functions with
// the Functions Framework, which serves each over HTTP (getTestServer: the framework's own
// server for one function). HTTP requests for createOrder; Cloud Scheduler ticks as Pub/Sub
// CloudEvents (binary content mode) for the scheduled ones, the SQS pull among them.
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { counts } from '../instrument.mjs';

export const runtime = 'Google Cloud Functions: Functions Framework over HTTP, Pub/Sub CloudEvents from Cloud Scheduler';

export async function open() {
  await import('../../gcp-functions/index.mjs');
  const servers = [];
  const serve = async (name) => {
    const server = getTestServer(name);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return `http://127.0.0.1:${server.address().port}/`;
  };
  const urls = {};
  for (const name of ['createOrder', 'pullOrderEvents', 'sweepOutbox', 'backupOrders', 'restoreDrill']) urls[name] = await serve(name);
  const tick = async (name) => {
    const id = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const res = await fetch(urls[name], {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished', 'ce-source': `//pubsub.googleapis.com/projects/demo/topics/${name}`, 'ce-id': id, 'ce-time': new Date().toISOString() },
      body: JSON.stringify({ message: { data: Buffer.from('{}').toString('base64'), messageId: id, publishTime: new Date().toISOString(), attributes: {} }, subscription: `projects/demo/subscriptions/${name}` }),
    });
    // A CloudEvent function answers 2xx when it succeeded, and no result.
    if (!res.ok) throw new Error(`${name} failed with HTTP ${res.status}`);
  };
  return {
    async create(input, headers) {
      const res = await fetch(`${urls.createOrder}orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.json() };
    },
    async consume() {
      const before = counts.messagesDeleted;
      await tick('pullOrderEvents');
      return counts.messagesDeleted - before;
    },
    tick,
    close: () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}
