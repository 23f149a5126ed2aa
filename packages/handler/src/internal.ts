/**
 * `@steadyfn/handler/internal`: helpers shared by the steadyfn packages so that none keeps a
 * copy. Not part of the public API: it may change in any release. Application code should
 * not import it.
 *
 * @packageDocumentation
 */
export { isRecord, str, setOwn, getOwn, type Rec } from './internal/record.js';
export { sleep, withTimeout, MAX_TIMER_MS, fitsTimer } from './internal/time.js';
export { cutAt } from './internal/text.js';
export { raceSignal, throwIfAborted, abortReasonOf, abortCallbacks, onAbort, toAbortSignal, type Abortable } from './internal/signal.js';
// The running invocation and the logger, for packages that must not load the root entry's adapters.
export { currentContext, currentAbortable, extendingAt } from './context.js';
export { effectsPending, effectsWritten, functionReturned, functionStarted, markEffectsPending, refuseEffectsWriterBefore, type FunctionReturned } from './effects.js';
// The same functions the root entry exports: a plugin package imports them here, not from the root.
export { recoveredFrom } from './recovered.js';
export { createLogger, type Logger } from './logger.js';
// The ctx members that belong to the handler: a plugin's extension must not name one.
export { CONTEXT_MEMBERS } from './extend.js';
export { invalidOption, msOption, intOption, oneOfOption, stringOption, clientOption, checkedGetter, s3BucketOption, mongoCollectionOption } from './internal/options.js';
export { keysOf, checkKnownKeys } from './internal/option-keys.js';
export { awsClientOption, serviceIdOf } from './internal/aws-client.js';
export { toFieldIssues, issuePath, type ZodLikeIssue } from './internal/issues.js';
export { isZod4Schema, maskedPath, MASKED_SEGMENT } from './internal/issue-mask.js';
export { parseMediaType, isJsonMediaType, isTextualContentType, type MediaType } from './internal/media-type.js';
export { isFieldName, isFieldValue, statusLine } from './internal/http-grammar.js';
export { scrubText, errorFacts } from './internal/scrub.js';
// The store failures that pass through unchanged (the deadline's, a typed terminal refusal), by shape.
export { passThroughStoreError } from './internal/store-error.js';
export { connectionFailure, errorChain, errorName, wasNotSent, CONNECTION_FAILURES, MONGO_DRIVER_NETWORK_NAMES, type ConnectionFailure } from './internal/connection-errors.js';
export { rejectDroppedWrites } from './internal/redis-dropped.js';
export { redisKeyPrefix } from './internal/redis-key-prefix.js';
export { nodeCrypto, randomUUID } from './internal/crypto.js';
export { decodeBase64Strict } from './internal/base64.js';
export { MAX_JSON_DEPTH, jsonTextTooDeep, valueTooDeep, parseJsonLossless, isLosslessNumber, jsonExactNumbers } from './internal/json.js';
// Whether `toMiddy()` runs the invocation (its HTTP results are Lambda proxy results).
export { isMiddyInvocation } from './internal/middy-request.js';
// Whether a middy handler's value reports its own message failed (a partial batch response naming it).
export { ownItemFailed } from './internal/own-item-failed.js';
export { toRenderedResponse, renderError, renderResult, isHttpResponse, tooLargeWithHeaders, type HttpResponseFields } from './response.js';
// The error classes, for packages that must not load the provider adapters of the root entry.
export {
  SteadyError,
  ConfigurationError,
  RetryableError,
  TerminalError,
  DeadlineExceededError,
  ValidationError,
  httpError,
  toSteadyError,
} from './errors.js';
