// A stand-in for the Azure Functions Node.js worker, for tests: it serves the
// `@azure/functions-core` module the worker gives programming models (an app's `app.http(...)`
// and `app.timer(...)` registrations land here with their binding metadata), loads the app's
// entry the way the worker loads package.json `main`, and invokes a registered function with
// the `@azure/functions` objects the library hands a function (`HttpRequest` and
// `InvocationContext`, timers' `Timer`) when the test asks over HTTP on loopback:
//
//   GET  /functions                 → [{ name, bindings }]
//   POST /invoke/<name>  { http: { method, url, headers, body } } | { timer: true }
//                                   → { ok, status?, headers?, body?, result?, error? }
//
// Prints `AZURE_WORKER_LISTENING <port>` once the app is loaded.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { installAzureCore, timerTick, triggerOf } from '../../../examples/demo/providers/azure-core.mjs';

const [entry, appDir] = process.argv.slice(2);
const registrations = installAzureCore();
await import(pathToFileURL(entry).href);
const azure = createRequire(`${appDir}/package.json`)('@azure/functions');

async function invoke(name, request) {
  const registered = registrations.get(name);
  if (!registered) return { ok: false, error: `no function ${name}` };
  const trigger = triggerOf(registered.metadata);
  const context = new azure.InvocationContext({ invocationId: randomUUID(), functionName: name, options: { trigger, extraInputs: [], extraOutputs: [] }, triggerMetadata: {}, logHandler: () => undefined });
  try {
    if (request.http) {
      const req = new azure.HttpRequest({ method: request.http.method, url: request.http.url, headers: request.http.headers, body: request.http.body === undefined ? undefined : { string: request.http.body } });
      const res = new azure.HttpResponse(await registered.callback(req, context));
      return { ok: true, status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    }
    return { ok: true, result: (await registered.callback(timerTick(), context)) ?? null };
  } catch (error) {
    return { ok: false, error: error?.code ?? String(error) };
  }
}

const server = createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8').on('data', (c) => (text += c)).on('end', async () => {
    let answer;
    if (req.method === 'GET' && req.url === '/functions') answer = [...registrations.values()].map(({ metadata }) => ({ name: metadata.name, bindings: metadata.bindings }));
    else if (req.method === 'POST' && req.url?.startsWith('/invoke/')) answer = await invoke(decodeURIComponent(req.url.slice('/invoke/'.length)), JSON.parse(text || '{}'));
    else answer = { ok: false, error: 'no route' };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`AZURE_WORKER_LISTENING ${server.address().port}`));
