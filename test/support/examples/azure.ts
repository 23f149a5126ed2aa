/**
 * Azure Functions on loopback: the app loaded by a stand-in for the Node.js worker
 * (`azure-worker.mjs`), which collects the `app.*` registrations through the
 * `@azure/functions-core` module and invokes them with `@azure/functions` objects.
 */
import { fileURLToPath } from 'node:url';
import { startChild, waitForMatch, type Child } from './processes.js';

export interface AzureApp extends Child {
  functions(): Promise<Array<{ name: string; bindings: Record<string, any> }>>;
  invoke(name: string, request: { http?: { method: string; url: string; headers: Record<string, string>; body?: string }; timer?: true }): Promise<{ ok: boolean; status?: number; headers?: Record<string, string>; body?: string; result?: unknown; error?: string }>;
}

const worker = fileURLToPath(new URL('./azure-worker.mjs', import.meta.url));

/** Loads `entry` (the app's main) with `appDir`'s node_modules, as the worker does. */
export async function startAzureApp(appDir: string, entry: string, env: NodeJS.ProcessEnv): Promise<AzureApp> {
  const child = startChild([worker, entry, appDir], appDir, env);
  let port: string | undefined;
  try {
    // Loading the app can take long on a loaded machine: waited for up to START_MS, not 200 polls.
    port = (await waitForMatch(/AZURE_WORKER_LISTENING (\d+)/, child))[1];
  } catch (error) {
    await child.stop();
    throw new Error(`the app did not load: ${(error as Error).message}`);
  }
  const base = `http://127.0.0.1:${port}`;
  return {
    ...child,
    functions: async () => (await (await fetch(`${base}/functions`)).json()) as Awaited<ReturnType<AzureApp['functions']>>,
    invoke: async (name, request) => (await (await fetch(`${base}/invoke/${encodeURIComponent(name)}`, { method: 'POST', body: JSON.stringify(request) })).json()) as Awaited<ReturnType<AzureApp['invoke']>>,
  };
}
