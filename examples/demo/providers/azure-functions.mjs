// examples/azure-functions as the Node.js worker runs it: its v4 registrations collected
// through `@azure/functions-core`, each function invoked with the `@azure/functions` objects
// the library hands a function (HttpRequest + InvocationContext; a Timer for app.timer).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { counts } from '../instrument.mjs';
import { installAzureCore, timerTick, triggerOf } from './azure-core.mjs';

export const runtime = 'Azure Functions: v4 registrations, HttpRequest and Timer invocations';

export async function open() {
  const registrations = installAzureCore();
  await import('../../azure-functions/src/functions/orders.mjs');
  const azure = createRequire(import.meta.url)('@azure/functions');
  const invoke = async (name, argument) => {
    const { metadata, callback } = registrations.get(name);
    const context = new azure.InvocationContext({ invocationId: randomUUID(), functionName: name, options: { trigger: triggerOf(metadata), extraInputs: [], extraOutputs: [] }, triggerMetadata: {}, logHandler: () => undefined });
    return callback(argument, context);
  };
  return {
    async create(input, headers) {
      const request = new azure.HttpRequest({ method: 'POST', url: 'https://orders.azurewebsites.net/api/orders', headers: { 'content-type': 'application/json', ...headers }, body: { string: JSON.stringify(input) } });
      // The host builds its HTTP response from what the function returned.
      const res = new azure.HttpResponse(await invoke('createOrder', request));
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.json() };
    },
    async consume() {
      const before = counts.messagesDeleted;
      await invoke('pullOrderEvents', timerTick());
      return counts.messagesDeleted - before;
    },
    tick: (name) => invoke(name, timerTick()),
    async close() {},
  };
}
