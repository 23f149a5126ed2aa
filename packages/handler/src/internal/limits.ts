/**
 * The platforms' limits on what a function answers, in bytes of the JSON its runtime posts
 * (UTF-8). Each is the documented value; where the documentation gives only "MB", the note
 * says how it is read.
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
 * API Gateway WebSocket APIs: "Message payload size: 128 KB" (API Gateway quotas for WebSocket
 * APIs); a two-way route sends the integration's response body to the client as one message.
 * Read, like the ALB's "1 MB", as the decimal 128,000 bytes of the body, the lower reading.
 */
export const WEBSOCKET_MESSAGE_LIMIT_BYTES = 128_000;
