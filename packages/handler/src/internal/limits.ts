/**
 * The platforms' limits on what a function answers, in bytes of the JSON its runtime posts
 * (UTF-8). Each is the documented value; where the documentation gives only "MB", the note
 * says how it is read.
 *
 * Azure Functions has none to check: its HTTP trigger documents only request limits — "The HTTP
 * request length is limited to 100 MB (104,857,600 bytes), and the URL length is limited to 4
 * KB (4,096 bytes)", and the 230-second load balancer timeout (HTTP trigger, "Limits",
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger) —
 * and no response size; Azure/Azure-Functions#2171 ("Are there limitations on http response
 * size") is open without an answer. A response is sent as the worker gets it.
 */

/**
 * OpenWhisk: the invoker accepts a `/run` answer whose Content-Length is at most
 * `whisk.activation.payload.max` (default 1048576, operators may change it) and records a
 * longer one as an "action developer error" holding a truncated copy of it (apache/openwhisk
 * `ApacheBlockingContainerClient.execute`, `ActivationResponse.processRunResponseContent`;
 * docs/reference.md "System limits": `result` 1 MB).
 */
export const OPENWHISK_RESULT_LIMIT_BYTES = 1_048_576;

/**
 * How long, in ms, an OpenWhisk controller waits for a web action's result by default
 * (`maxWaitForBlockingActivation`, apache/openwhisk `WebActions.scala`); then it answers `202`
 * "Response not yet ready." The `openwhiskWebTimeoutMs` handler option overrides it.
 */
export const OPENWHISK_WEB_TIMEOUT_MS = 60_000;

/**
 * AWS Lambda: the response payload of a synchronous invocation, 6 MB (Lambda quotas,
 * "Invocation payload (request and response)"). The Runtime API answers a larger
 * `/invocation/{id}/response` with 413 `RequestEntityTooLarge` "Exceeded maximum allowed
 * payload size (6291556 bytes)", and the invocation fails (API Gateway answers 502).
 */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556;

/**
 * Application Load Balancer with a Lambda target: "The maximum size of the response JSON that
 * the Lambda function can send is 1 MB" (ELB docs, "Lambda functions as targets", Limits).
 * The docs give no byte count: read as the decimal 1,000,000, the lower of the two readings,
 * so nothing the balancer refuses passes the check.
 */
export const ALB_RESPONSE_LIMIT_BYTES = 1_000_000;

/**
 * VPC Lattice with a Lambda target: "The maximum size of the response JSON that the Lambda
 * function can send is 6 MB" (VPC Lattice User Guide, "Lambda functions as targets in VPC
 * Lattice", Limitations). No byte count given: read as the decimal 6,000,000, the lower
 * reading, as for the ALB (below Lambda's own 6291556).
 */
export const VPC_LATTICE_RESPONSE_LIMIT_BYTES = 6_000_000;

/**
 * API Gateway WebSocket APIs: "Message payload size: 128 KB" (API Gateway quotas for WebSocket
 * APIs); a two-way route sends the integration's response body to the client as one message.
 * Read, like the ALB's "1 MB", as the decimal 128,000 bytes of the body, the lower reading.
 */
export const WEBSOCKET_MESSAGE_LIMIT_BYTES = 128_000;

/**
 * Cloud Run functions (Cloud Functions 2nd gen) over HTTP: "Max uncompressed HTTP response
 * size — Data sent from HTTP functions in an HTTP response — 10MB for streaming responses. 32MB
 * for non-streaming responses" (Cloud Run functions quotas, Resource Limits,
 * https://cloud.google.com/functions/quotas). The platform enforces it: the client gets a 500
 * and the request log "Response size was too large". The adapter sends every response whole,
 * with a Content-Length (`res.send` of a Buffer), so the non-streaming 32 MB applies; the
 * uncompressed body is what counts. The docs give no byte count: read, like the ALB's "1 MB", as
 * the decimal 32,000,000 bytes, the lower reading.
 *
 * The default only: Cloud Functions (1st gen) takes 10MB ("Max uncompressed HTTP response size
 * | 10MB", https://cloud.google.com/functions/quotas-1st-gen), and the function cannot tell
 * which generation runs it (both set `K_SERVICE`, `K_REVISION`, `FUNCTION_TARGET`). Checking
 * 10 MB always would refuse 10–32 MB responses 2nd gen sends, so the `gcpResponseLimitBytes`
 * handler option sets the limit: 10,000,000 (the same decimal reading) on 1st gen. Left at
 * this default on 1st gen, a response of 10–32 MB still fails in the platform (a 500 the
 * function does not see).
 */
export const GCF_RESPONSE_LIMIT_BYTES = 32_000_000;
