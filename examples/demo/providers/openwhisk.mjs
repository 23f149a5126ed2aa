// examples/openwhisk as its Node.js runtime runs it: index.js loaded with require(), each
// action called with its activation's parameters — the package's bound parameters (the
// manifest's `inputs`) under a web action's request fields, or an alarm's trigger payload —
// with the activation's identity and deadline in the environment, as the runtime sets them.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { counts } from '../instrument.mjs';

export const runtime = 'Apache OpenWhisk: require()d actions, web-action and alarm activations, bound parameters';

export async function open(stores) {
  const actions = createRequire(import.meta.url)('../../openwhisk/index.js');
  // A container has no configuration in its environment: what the manifest binds arrives as
  // bound parameters; the names it does not bind (the local S3 endpoint, the sweep's grace)
  // as init-time parameters, which the runtime exports to the environment (the web action
  // takes no other configuration from its parameters: examples/openwhisk/README.md).
  const config = { REDIS_URL: process.env.REDIS_URL, ...stores.env };
  const INIT = ['AWS_ENDPOINT_URL', 'OUTBOX_SWEEP_GRACE_MS'];
  const bound = Object.fromEntries(Object.entries(config).filter(([key]) => !INIT.includes(key)));
  for (const key of Object.keys(config)) {
    if (INIT.includes(key) && config[key] !== undefined) process.env[key] = config[key];
    else delete process.env[key];
  }
  const activate = async (name, params) => {
    process.env.__OW_ACTIVATION_ID = randomUUID().replace(/-/g, '');
    process.env.__OW_ACTION_NAME = `/guest/orders/${name}`;
    process.env.__OW_DEADLINE = String(Date.now() + 60_000);
    const result = await actions[name]({ ...bound, ...params });
    return result;
  };
  const tick = async (name) => {
    const result = await activate(name, { __steadyfn_schedule: name });
    if (result?.error) throw new Error(`${name} failed: ${JSON.stringify(result.error)}`);
    return result;
  };
  return {
    async create(input, headers) {
      const result = await activate('createOrder', { ...input, __ow_method: 'post', __ow_headers: { 'content-type': 'application/json', ...headers }, __ow_path: '' });
      const answer = result.error ?? result; // the controller answers an `{ error }` with its status
      if (answer.statusCode === undefined) throw new Error(`createOrder failed: ${JSON.stringify(answer)}`);
      const lower = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return { status: answer.statusCode, headers: lower, body: typeof answer.body === 'string' ? JSON.parse(answer.body) : answer.body };
    },
    async consume() {
      const before = counts.messagesDeleted;
      await tick('pullOrderEvents');
      return counts.messagesDeleted - before;
    },
    tick,
    async close() {},
  };
}
