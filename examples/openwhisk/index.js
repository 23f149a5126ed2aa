'use strict';
// The OpenWhisk entry: each export is one action of manifest.yaml (`main: <name>`). OpenWhisk
// passes configuration as bound parameters (the manifest's `inputs`), not as environment
// variables: each action moves them into process.env and out of the params before the
// application loads, so the application reads its configuration as on every other provider.
// Parameters given at init time (`-e` / `init: true`), which the runtime exports to the
// environment, work the same way and win.
const CONFIG = ['REDIS_URL', 'ORDER_EVENTS_QUEUE_URL', 'BACKUP_BUCKET', 'ORDERS_PREFIX', 'OUTBOX_SWEEP_GRACE_MS', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL'];
// What manifest.yaml binds to the package. On a web action these are the only parameters a
// request cannot set (`final` protects the bound ones, and passes any other request parameter
// through), so they are the only configuration a web activation takes from its parameters.
const BOUND = ['REDIS_URL', 'ORDER_EVENTS_QUEUE_URL', 'BACKUP_BUCKET', 'ORDERS_PREFIX', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

let app;

/** Loads the application once, after the first activation put its configuration in place. */
function load() {
  if (!app) app = { ...require('./orders/handlers.js'), ...require('./orders/sqs-pull.js') };
  return app;
}

function action(name) {
  // Never throws: a throw would discard the container (and its warm connections), and a
  // rejection would put its stack into the activation record.
  return async function (params) {
    const input = {};
    const web = typeof params?.__ow_method === 'string';
    for (const [key, value] of Object.entries(params ?? {})) {
      if (!CONFIG.includes(key)) input[key] = value;
      // Any other configuration name in a web activation may be the HTTP client's: dropped, so
      // a request can neither redirect the AWS clients nor make this container's start fail.
      else if (web && !BOUND.includes(key)) continue;
      else if (process.env[key] === undefined && typeof value === 'string') process.env[key] = value;
    }
    let functions;
    try {
      functions = load();
    } catch (error) {
      // A configuration the application refused (configFromEnv): each bad variable, whether it
      // is set, and what it must be, never its value (only the issues' schema words are read).
      const fields = Array.isArray(error?.issues)
        ? error.issues.map((i) => `${i.field} is ${process.env[i.field] === undefined ? 'not set' : 'invalid'} (expected ${i.expected})`).join('; ')
        : error?.code ?? 'unknown';
      if (typeof params?.__ow_method !== 'string') return { error: { code: 'CONFIG_INVALID', message: `configuration refused: ${fields}`, retryable: false } };
      // A web action's `error` is the HTTP answer the controller sends: a 500 problem (without
      // the variable names), not an object it would answer with an empty 204.
      const body = { status: 500, code: 'CONFIG_INVALID', message: 'Service configuration refused', retryable: false };
      return { error: { statusCode: 500, headers: { 'content-type': 'application/problem+json' }, body } };
    }
    return functions[name](input);
  };
}

exports.createOrder = action('createOrder');
exports.pullOrderEvents = action('pullOrderEvents');
exports.sweepOutbox = action('sweepOutbox');
exports.backupOrders = action('backupOrders');
exports.restoreDrill = action('restoreDrill');
