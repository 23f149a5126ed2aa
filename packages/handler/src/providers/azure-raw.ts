/**
 * Trigger metadata as the Azure Functions host sent it, before the Node.js programming model
 * (`@azure/functions`) parses every string in it as JSON when it can: a Service Bus
 * `MessageId` of `"9007199254740993"` reaches `context.triggerMetadata` as the number
 * 9007199254740992, and `"1e3"` as 1000, so two messages could share an id.
 *
 * Inside the worker, `@azure/functions-core` is the API through which a programming model
 * registers itself (`setProgrammingModel`). We wrap the model's `getInvocationModel(coreCtx)`
 * to keep each invocation's raw `triggerMetadata` (RPC `TypedData` by the host's own keys)
 * until the adapter takes it. Outside the worker (tests, other providers) nothing happens.
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

/** Invocations whose raw metadata was kept but never taken (another function's) are dropped past this many. */
const MAX_KEPT = 256;
const kept = new Map<string, Rec>();
const WRAPPED = Symbol('steadyfn.rawMetadata');
let installed = false;

function keep(coreCtx: unknown): void {
  if (!isRecord(coreCtx) || typeof coreCtx.invocationId !== 'string') return;
  const request = coreCtx.request;
  if (!isRecord(request) || !isRecord(request.triggerMetadata)) return;
  kept.set(coreCtx.invocationId, request.triggerMetadata);
  if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
}

function wrap(model: ProgrammingModel): ProgrammingModel {
  if ((model as unknown as Record<symbol, unknown>)[WRAPPED]) return model;
  return new Proxy(model, {
    get(target, property, receiver) {
      if (property === WRAPPED) return true;
      if (property === 'getInvocationModel') {
        return (coreCtx: unknown) => {
          keep(coreCtx);
          return target.getInvocationModel(coreCtx);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/**
 * Starts keeping raw trigger metadata when running inside the Azure Functions Node.js worker
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

/** This invocation's raw trigger metadata, taken once; undefined outside the worker. */
export function takeRawMetadata(invocationId: string): Rec | undefined {
  const meta = kept.get(invocationId);
  kept.delete(invocationId);
  return meta;
}
