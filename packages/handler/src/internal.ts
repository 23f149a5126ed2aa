/**
 * `@steadyfn/handler/internal`: helpers shared by the steadyfn packages so that none keeps a
 * copy. Not part of the public API: it may change in any release. Application code should
 * not import it.
 *
 * @packageDocumentation
 */
export { isRecord, str, setOwn, getOwn, type Rec } from './internal/record.js';
export { sleep, withTimeout } from './internal/time.js';
export { invalidOption, msOption, intOption, oneOfOption, stringOption } from './internal/options.js';
export { toFieldIssues } from './invoke.js';
export { decodeBase64Strict } from './internal/base64.js';
export { MAX_JSON_DEPTH, jsonTextTooDeep, valueTooDeep, parseJsonLossless, isLosslessNumber } from './internal/json.js';
