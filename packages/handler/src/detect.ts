/**
 * Which provider called us. The arguments decide first (each runtime calls with a
 * recognisable shape); the environment settles the cases the arguments leave open.
 */
import type { Provider } from './types.js';
import { isBackgroundContext } from './providers/gcp-background.js';

export { isBackgroundContext };

type Env = Record<string, string | undefined>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isLambdaContext(value: unknown): boolean {
  return isObject(value) && typeof value.getRemainingTimeInMillis === 'function' && typeof value.awsRequestId === 'string';
}

export function isAzureContext(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.invocationId === 'string' &&
    typeof value.functionName === 'string' &&
    (typeof value.log === 'function' || isObject(value.triggerMetadata) || isObject(value.options))
  );
}

export function isExpressPair(req: unknown, res: unknown): boolean {
  return (
    isObject(req) &&
    typeof req.method === 'string' &&
    isObject(req.headers) &&
    isObject(res) &&
    typeof res.status === 'function' &&
    (typeof res.send === 'function' || typeof res.end === 'function')
  );
}

export function isCloudEvent(value: unknown): boolean {
  return isObject(value) && typeof value.specversion === 'string' && typeof value.type === 'string' && typeof value.source === 'string';
}

/**
 * A CloudEvent attempt: it names its `specversion` (the one attribute only a CloudEvent has)
 * but may lack `id`, `type` or `source` — the CloudEvent adapter answers it `MALFORMED_EVENT`
 * naming them, as `@steadyfn/handler/gcp` does, instead of running it as a plain input.
 */
function isCloudEventAttempt(value: unknown): boolean {
  return isObject(value) && !Array.isArray(value) && typeof value.specversion === 'string';
}

/**
 * Which provider made this call: from the arguments first (a Lambda context, an Azure
 * `InvocationContext`, an Express `req`/`res` pair, a background function's event context,
 * a CloudEvent), then from the environment
 * (`__OW_ACTIVATION_ID` / `__OW_ACTION_NAME` for OpenWhisk; `FUNCTION_SIGNATURE_TYPE=cloudevent`,
 * the Functions Framework's setting for a CloudEvent function, makes a one-argument call a
 * CloudEvent whatever its body); `'direct'` otherwise.
 */
export function detectProvider(args: ReadonlyArray<unknown>, env: Env = process.env): Provider {
  const [first, second] = args;
  if (args.length >= 2) {
    if (isLambdaContext(second)) return 'aws';
    if (isAzureContext(second)) return 'azure';
    if (isExpressPair(first, second)) return 'gcp';
    // A Cloud Functions background function: `(data, context)`.
    if (isBackgroundContext(second)) return 'gcp';
  }
  if (env.__OW_ACTIVATION_ID !== undefined || env.__OW_ACTION_NAME !== undefined) return 'openwhisk';
  if (isCloudEvent(first) || (args.length === 1 && isCloudEventAttempt(first))) return 'gcp';
  // The Functions Framework hands a CloudEvent function the request body as it is when the
  // request is not a CloudEvent (it rejects nothing): under that signature it is still one.
  if (args.length === 1 && env.FUNCTION_SIGNATURE_TYPE?.toLowerCase() === 'cloudevent') return 'gcp';
  return 'direct';
}
