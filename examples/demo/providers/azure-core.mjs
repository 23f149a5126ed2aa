// What the Azure Functions Node.js worker gives a programming model: the
// `@azure/functions-core` module, through which an app's `app.http(...)` / `app.timer(...)`
// registrations reach the worker with their binding metadata. This stand-in serves that module
// to whoever requires it and collects the registrations (used by the demo, and by the test
// suite's worker stand-in, test/support/examples/azure-worker.mjs).
import Module from 'node:module';

/** Serves `@azure/functions-core` from now on; returns the registrations as they arrive (name → { metadata, callback }). */
export function installAzureCore() {
  const registrations = new Map();
  let programmingModel;
  const core = {
    version: '3.10.1',
    get hostVersion() {
      return '4.1036.1.23224';
    },
    setProgrammingModel(model) {
      programmingModel = model;
    },
    getProgrammingModel() {
      return programmingModel;
    },
    registerFunction(metadata, callback) {
      registrations.set(metadata.name, { metadata, callback });
      return { dispose() {} };
    },
    registerHook() {
      return { dispose() {} };
    },
    log() {},
  };
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    return request === '@azure/functions-core' ? core : load.call(this, request, parent, isMain);
  };
  process.env.FUNCTIONS_WORKER_RUNTIME ??= 'node';
  return registrations;
}

/** The trigger binding of a registration, with its name. */
export function triggerOf(metadata) {
  const [name, binding] = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
  return { ...binding, name };
}

/** A timer trigger's argument, as the host passes it. */
export function timerTick() {
  const now = new Date();
  return { schedule: { adjustForDST: false }, scheduleStatus: { last: new Date(now.getTime() - 60_000).toISOString(), next: now.toISOString(), lastUpdated: now.toISOString() }, isPastDue: false };
}
