/**
 * The Azure Functions Node.js worker, as far as the `@azure/functions` programming model sees
 * it: the worker's `@azure/functions-core` module (the only part of the worker, which is not
 * published, that the model talks to) is served to every requirer as the worker serves it, and
 * an invocation goes the worker's way — `getInvocationModel(coreCtx)` with the host's RPC
 * `InvocationRequest`, `getArguments()` (the library's own conversion of the RPC `TypedData`:
 * `fromRpcTypedData` parses a JSON string, rounding integers past 2^53), then `invokeFunction`.
 *
 * Call `installAzureWorker()` before `@azure/functions` is first imported and before any
 * `handler()` is built (the wrapper looks for the worker when it is built).
 */
import Module from 'node:module';

interface Registered {
  metadata: { name: string; bindings: Record<string, { type: string; direction: string }> };
  callback: (...args: unknown[]) => unknown;
}
interface Model {
  getInvocationModel(coreCtx: unknown): {
    getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
    invokeFunction(context: unknown, inputs: unknown[], handler: unknown): Promise<unknown>;
    getResponse(context: unknown, result: unknown): Promise<Record<string, any>>;
  };
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

/** The worker: `invoke` runs one registered function with the host's trigger metadata and trigger `TypedData`; `uninstall` restores the loader. */
export interface AzureWorker {
  invoke(name: string, invocationId: string, triggerMetadata: Record<string, unknown>, input: Record<string, unknown>): Promise<unknown>;
  /**
   * The same, then the library's `getResponse()`: the RPC `InvocationResponse` the worker sends
   * the host (for an HTTP function, `returnValue.http` with the status, headers and cookies as
   * `toRpcHttp` / `toRpcHttpCookie` convert them).
   */
  respond(name: string, invocationId: string, triggerMetadata: Record<string, unknown>, input: Record<string, unknown>): Promise<Record<string, any>>;
  /**
   * The capabilities the worker reports to the host at startup (`getCapabilities`): under
   * `app.setup({ enableHttpStream: true })` this starts the library's HTTP proxy and gives its
   * address as `HttpUri`, to which the host then sends each request (with `x-ms-invocation-id`).
   */
  capabilities(): Promise<Record<string, string>>;
  uninstall(): void;
}

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

export function installAzureWorker(): AzureWorker {
  const registered: Registered[] = [];
  let model: Model | undefined;
  const core = {
    setProgrammingModel: (m: Model) => void (model = m),
    getProgrammingModel: () => model,
    registerFunction: (metadata: Registered['metadata'], callback: Registered['callback']) => (registered.push({ metadata, callback }), { dispose: () => undefined }),
    registerHook: () => ({ dispose: () => undefined }),
    log: () => undefined,
  };
  const moduleWithLoad = Module as unknown as { _load: Load };
  const originalLoad = moduleWithLoad._load;
  moduleWithLoad._load = function load(request: string, parent: unknown, isMain: boolean) {
    return request === '@azure/functions-core' ? core : originalLoad.call(this, request, parent, isMain);
  };
  const hadRuntime = process.env.FUNCTIONS_WORKER_RUNTIME;
  process.env.FUNCTIONS_WORKER_RUNTIME = 'node';
  const run = async (name: string, invocationId: string, triggerMetadata: Record<string, unknown>, input: Record<string, unknown>, respond: boolean): Promise<any> => {
    const fn = registered.find((r) => r.metadata.name === name);
    if (!fn || !model) throw new Error(`function ${name} is not registered`);
    const bindingName = Object.entries(fn.metadata.bindings).find(([, b]) => b.direction === 'in')![0];
    const coreCtx = {
      invocationId,
      request: { invocationId, triggerMetadata, inputData: [{ name: bindingName, data: input }] },
      metadata: { name, bindings: fn.metadata.bindings },
    };
    const invocation = model.getInvocationModel(coreCtx);
    const { context, inputs } = await invocation.getArguments();
    const result = await invocation.invokeFunction(context, inputs, fn.callback);
    return respond ? invocation.getResponse(context, result) : result;
  };
  return {
    invoke: (name, invocationId, triggerMetadata, input) => run(name, invocationId, triggerMetadata, input, false),
    respond: (name, invocationId, triggerMetadata, input) => run(name, invocationId, triggerMetadata, input, true),
    capabilities: async () => {
      if (!model) throw new Error('no programming model: import @azure/functions first');
      return model.getCapabilities({});
    },
    uninstall() {
      moduleWithLoad._load = originalLoad;
      if (hadRuntime === undefined) delete process.env.FUNCTIONS_WORKER_RUNTIME;
      else process.env.FUNCTIONS_WORKER_RUNTIME = hadRuntime;
    },
  };
}
