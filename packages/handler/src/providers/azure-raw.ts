/**
 * Trigger metadata as the Azure Functions host sent it, before the Node.js programming model
 * (`@azure/functions`) parses every string in it as JSON when it can: a Service Bus
 * `MessageId` of `"9007199254740993"` reaches `context.triggerMetadata` as the number
 * 9007199254740992, and `"1e3"` as 1000, so two messages could share an id.
 *
 * Inside the worker, `@azure/functions-core` is the API through which a programming model
 * registers itself (`setProgrammingModel`). We wrap the model's `getInvocationModel(coreCtx)`
 * to keep each invocation's raw `triggerMetadata` (RPC `TypedData` by the host's own keys)
 * and the trigger binding's own `TypedData` (the message body as the host sent it, before the
 * library's `JSON.parse` rounds `{"id":9007199254740993}` to 9007199254740992) until the
 * adapter takes them. Outside the worker (tests, other providers) nothing happens.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isRecord, type Rec } from '../internal/record.js';

interface ProgrammingModel {
  getInvocationModel(coreCtx: unknown): unknown;
}

interface CoreApi {
  setProgrammingModel(model: ProgrammingModel): void;
  getProgrammingModel?(): ProgrammingModel | undefined;
}

/** A backstop: past this many invocations kept and not yet run, the oldest is dropped. */
const MAX_KEPT = 256;
const kept = new Map<string, RawInvocation>();

/** What the host sent for one invocation, by its own keys. */
export interface RawInvocation {
  /** RPC `InvocationRequest.triggerMetadata`: `TypedData` by the host's (PascalCase) names. */
  triggerMetadata?: Rec;
  /** The trigger binding's RPC `TypedData` (`string`, `json`, `bytes`, `collectionString`, …). */
  triggerData?: Rec;
}

/** The input data of the binding whose type ends in `Trigger` (there is exactly one). */
function triggerData(coreCtx: Rec, request: Rec): Rec | undefined {
  const metadata = isRecord(coreCtx.metadata) ? coreCtx.metadata : undefined;
  const bindings = metadata && isRecord(metadata.bindings) ? metadata.bindings : undefined;
  if (!bindings || !Array.isArray(request.inputData)) return undefined;
  const name = Object.keys(bindings).find((key) => {
    const binding = bindings[key];
    return isRecord(binding) && typeof binding.type === 'string' && /trigger$/i.test(binding.type);
  });
  const input: unknown = name === undefined ? undefined : (request.inputData as unknown[]).find((entry) => isRecord(entry) && entry.name === name);
  return isRecord(input) && isRecord(input.data) ? input.data : undefined;
}
const WRAPPED = Symbol('steadyfn.rawMetadata');
let installed = false;

function keep(coreCtx: unknown): string | undefined {
  if (!isRecord(coreCtx) || typeof coreCtx.invocationId !== 'string') return undefined;
  const request = coreCtx.request;
  if (!isRecord(request)) return undefined;
  const raw: RawInvocation = {};
  if (isRecord(request.triggerMetadata)) raw.triggerMetadata = request.triggerMetadata;
  const data = triggerData(coreCtx, request);
  if (data) raw.triggerData = data;
  if (!raw.triggerMetadata && !raw.triggerData) return undefined;
  kept.set(coreCtx.invocationId, raw);
  if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
  return coreCtx.invocationId;
}

/**
 * Drops what was kept for an invocation once its function has run, taken or not: a function
 * of the app that is not wrapped never takes its message bodies, which must not pile up.
 */
function dropAfterRun(invocation: unknown, invocationId: string | undefined): unknown {
  if (invocationId === undefined || !isRecord(invocation) || typeof invocation.invokeFunction !== 'function') return invocation;
  const invokeFunction = (invocation.invokeFunction as (...args: unknown[]) => unknown).bind(invocation);
  invocation.invokeFunction = async (...args: unknown[]) => {
    try {
      return await invokeFunction(...args);
    } finally {
      kept.delete(invocationId);
    }
  };
  return invocation;
}

function wrap(model: ProgrammingModel): ProgrammingModel {
  if ((model as unknown as Record<symbol, unknown>)[WRAPPED]) return model;
  return new Proxy(model, {
    get(target, property, receiver) {
      if (property === WRAPPED) return true;
      if (property === 'getInvocationModel') {
        return (coreCtx: unknown) => {
          const invocationId = keep(coreCtx);
          return dropAfterRun(target.getInvocationModel(coreCtx), invocationId);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/**
 * Starts keeping raw trigger metadata and trigger data when running inside the Azure Functions Node.js worker
 * (`FUNCTIONS_WORKER_RUNTIME` set and `@azure/functions-core` present). Idempotent.
 */
export function captureRawTriggerMetadata(env: Record<string, string | undefined> = process.env): void {
  if (installed || env.FUNCTIONS_WORKER_RUNTIME === undefined) return;
  installed = true;
  let core: CoreApi;
  try {
    // The worker serves this module name to any requirer; the path only anchors the lookup.
    core = createRequire(join(process.cwd(), 'index.js'))('@azure/functions-core') as CoreApi;
  } catch {
    return;
  }
  if (!core || typeof core.setProgrammingModel !== 'function') return;
  const set = core.setProgrammingModel.bind(core);
  core.setProgrammingModel = (model) => set(wrap(model));
  const current = typeof core.getProgrammingModel === 'function' ? core.getProgrammingModel() : undefined;
  if (current) set(wrap(current));
}

/** This invocation's raw trigger metadata and trigger data, taken once; undefined outside the worker. */
export function takeRawInvocation(invocationId: string): RawInvocation | undefined {
  const raw = kept.get(invocationId);
  kept.delete(invocationId);
  return raw;
}
