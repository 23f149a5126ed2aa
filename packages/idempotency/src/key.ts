/**
 * Where an invocation's idempotency key comes from (a client's header is read in
 * header-key.ts; a stream position's key in stream-position.ts), and how keys are namespaced
 * and hashed before they reach a store.
 */
import type { Context, Principal, Trigger } from '@steadyfn/handler';
import { jsonExactNumbers, nodeCrypto } from '@steadyfn/handler/internal';
import { IdempotencyInputUnhashableError, IdempotencyKeyAmbiguousError, IdempotencyKeyInvalidError, IdempotencyScopeInvalidError } from './errors.js';
import { canonicalHash, canonicalText, sha256 } from './fingerprint.js';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKeyHeader } from './header-key.js';
import { LEGACY_DELIVERY_FINGERPRINT, isReusablePosition, positionKey } from './stream-position.js';

export { IDEMPOTENCY_KEY_HEADER, MAX_KEY_LENGTH, parseIdempotencyKeyHeader, type HeaderParse } from './header-key.js';

/**
 * Returns the key for this invocation, or undefined when there is none (see `required`). An
 * empty or whitespace-only string also counts as none: a blank carries no identity, and hashed
 * as a key it would make every request without one share a single record.
 */
export type KeyFunction = (ctx: Context) => string | undefined | null;

/**
 * Whatever the source, HTTP requests with a safe method (GET, HEAD, OPTIONS, TRACE) get no key:
 * they run every time and nothing is stored; so do API Gateway authorizers. Under `'auto'` and
 * `'header'`, so do schedule ticks without an identity and WebSocket routes without an
 * `Idempotency-Key` (see `runsWithoutKey`).
 *
 * `'auto'`: the HTTP `Idempotency-Key` header when present, else `ctx.deliveryId` (queue,
 * schedule and event triggers; for a Kafka or Event Hubs record, a Service Bus message or a Knative KafkaSource
 * CloudEvent with its time, and its payload as the fingerprint — see stream-position.ts), else a
 * hash of the validated input.
 * `'header'`: HTTP calls must send `Idempotency-Key`; other triggers use `ctx.deliveryId`.
 * `'input'`: always a hash of the input: for a queue message, stream record or notification
 * whose trigger carries the payload as delivered (`ctx.trigger.rawBody`), of those exact
 * bytes or text — see `messageBodyHash`; for HTTP, of the method, path, query parameters and
 * validated body (with the exact value of any number a JSON parse rounds); otherwise of the
 * validated input.
 */
export type KeySource = 'auto' | 'header' | 'input' | KeyFunction;

/** Where a resolved key came from; part of the hash, so sources cannot collide. */
export type KeyKind = 'header' | 'delivery' | 'input' | 'custom';

/** An invocation's key before it is namespaced and hashed: where it came from, and its value. */
export interface ResolvedKey {
  kind: KeyKind;
  value: string;
}

/** RFC 9110 §9.2.1 safe methods: they change nothing, so there is nothing to do only once. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** The header Cloud Scheduler marks its HTTP target calls with (lower-case, as the adapters give headers). */
const CLOUD_SCHEDULER_HEADER = 'x-cloudscheduler';

/**
 * Whether the plugin leaves this invocation alone — no key, no record, no replay:
 * - an HTTP request with a safe method (GET, HEAD, OPTIONS, TRACE), as Stripe ignores its
 *   `Idempotency-Key` there: storing a read would answer the next reads with stale data
 *   until `ttlMs`;
 * - with `'auto'` or `'header'`, a schedule tick the provider gives no identity (an OpenWhisk
 *   alarm, a Cloud Scheduler call without its schedule time): every tick carries the same
 *   input, so keyed by its hash each tick after the first would replay the first one;
 * - with `'auto'` or `'header'`, an API Gateway WebSocket route without an `Idempotency-Key`
 *   (messages never carry headers): API Gateway does not redeliver a message, and keyed by its
 *   text a second `hello` — from any connection — would be answered with the first's replay;
 * - with `'auto'`, a Cloud Scheduler call (`X-CloudScheduler: true`, no `Idempotency-Key`) the
 *   handler did not opt into as a tick (`gcpSchedulerHttp` off, so it is plain HTTP): every
 *   tick sends the same body, so keyed by its hash each tick after the first would be answered
 *   with the first one's replay for `ttlMs` — the job would silently stop running. Anyone can
 *   send the header, but it only takes a request out of the hash's deduplication, which a
 *   caller can do anyway by changing the body (with `'header'` such a call needs its key);
 * - an API Gateway Lambda authorizer, whatever the source: its answer is an access decision,
 *   made again each time (a stored Allow would outlive a revoked token).
 */
export function runsWithoutKey(ctx: Context, source: KeySource): boolean {
  const implicit = source === 'auto' || source === 'header';
  if (ctx.trigger.kind === 'http') {
    if (SAFE_METHODS.has(ctx.trigger.request.method)) return true;
    const headers = ctx.trigger.request.headers;
    if (!implicit || headers[IDEMPOTENCY_KEY_HEADER] !== undefined) return false;
    return ctx.trigger.websocket !== undefined || (source === 'auto' && headers[CLOUD_SCHEDULER_HEADER] === 'true');
  }
  // An access decision, not an operation: a stored Allow would outlive a revoked token (and a
  // replayed one is plain JSON, not an authorizer answer), whatever the key source.
  if (ctx.trigger.kind === 'authorizer') return true;
  return ctx.trigger.kind === 'schedule' && implicit && deliveryKey(ctx) === undefined;
}

function headerKey(ctx: Context): string | undefined {
  if (ctx.trigger.kind !== 'http') return undefined;
  // The header sent more than once (the adapters keep every value): which key was meant is unknown.
  const all = ctx.trigger.request.multiHeaders?.[IDEMPOTENCY_KEY_HEADER];
  if (all !== undefined && all.length > 1) throw new IdempotencyKeyAmbiguousError();
  const raw = ctx.trigger.request.headers[IDEMPOTENCY_KEY_HEADER];
  if (raw === undefined) return undefined;
  const parsed = parseIdempotencyKeyHeader(raw);
  if (!parsed.ok) throw parsed.ambiguous ? new IdempotencyKeyAmbiguousError() : new IdempotencyKeyInvalidError(parsed.reason);
  return parsed.key;
}

/**
 * The delivery id, or undefined: with the record's time for a reusable stream position
 * (`positionKey`); with the subscription or topic for a Pub/Sub message.
 */
function deliveryKey(ctx: Context): string | undefined {
  // Only ids that stay the same across redeliveries; never the per-attempt requestId.
  if (ctx.trigger.kind === 'http') return undefined;
  const id = ctx.deliveryId;
  if (typeof id !== 'string' || id.length === 0) return undefined;
  if (isReusablePosition(ctx.trigger)) return positionKey(id, ctx.trigger);
  // A Pub/Sub message id is unique only within its topic: scoped by the subscription (else the
  // topic) the trigger names, `<messageId>\0<queue>`, so two topics' messages never share one.
  // The handler scopes `ctx.deliveryId` the same way (`<queue>#<messageId>`); the key is built
  // from the bare `messageId` as before, so records written by earlier versions still match.
  const trigger = ctx.trigger;
  if (trigger.kind === 'queue' && trigger.source === 'pubsub' && typeof trigger.queue === 'string' && trigger.queue !== '') return `${trigger.messageId}\0${trigger.queue}`;
  return id;
}

/**
 * The key that needs no validated input (header or delivery id), or undefined when the
 * source needs the input. Lets a batch claim every message before any of them runs. A
 * reusable stream position without its payload as delivered (the OpenWhisk Kafka feed with
 * `isJSONData`, a Kafka tombstone) is fingerprinted by its validated input: claimed in `before`.
 */
export function resolveKeyEarly(ctx: Context, source: KeySource): ResolvedKey | undefined {
  if (source === 'input' || typeof source === 'function') return undefined;
  const header = headerKey(ctx);
  if (header !== undefined) return { kind: 'header', value: header };
  if (isReusablePosition(ctx.trigger) && messageBodyOf(ctx.trigger) === undefined) return undefined;
  const delivery = deliveryKey(ctx);
  if (delivery !== undefined) return { kind: 'delivery', value: delivery };
  return undefined;
}

/** The key for this invocation; undefined when none was found (the caller decides if that is a 400). */
export function resolveKey(ctx: Context, source: KeySource): ResolvedKey | undefined {
  if (typeof source === 'function') {
    const value = source(ctx);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new IdempotencyKeyInvalidError('Not a string', 500);
    if (value.trim() === '') return undefined;
    return { kind: 'custom', value };
  }
  if (source === 'input') return inputKey(ctx);
  const early = resolveKeyEarly(ctx, source);
  if (early) return early;
  // A stream position `resolveKeyEarly` left for now, its input validated.
  const delivery = deliveryKey(ctx);
  if (delivery !== undefined) return { kind: 'delivery', value: delivery };
  if (source === 'header') return undefined;
  return inputKey(ctx);
}

/** The payload of a message as its provider delivered it (`trigger.rawBody`), when the trigger carries one. */
export function messageBodyOf(trigger: Trigger): string | Buffer | undefined {
  if (trigger.kind !== 'queue' && trigger.kind !== 'stream' && trigger.kind !== 'notification') return undefined;
  const raw: unknown = trigger.rawBody;
  return typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : undefined;
}

/**
 * The `key: 'input'` hash of a message body: SHA-256 (base64url) of `#m` followed by the
 * body's canonical text — text as its JSON string, bytes as `#x<base64>;` (see
 * `canonicalText`). Two bodies that differ in any byte or character hash differently; a
 * redelivery (the same body) hashes the same. Nothing else about the message is in it — not
 * its attributes, id, receipt handle or attempt count. The `#m` tag is a text no hash of a
 * parsed input starts with, so the two kinds of input key never meet.
 *
 * @example storeKey(scopeOf('orders'), { kind: 'input', value: messageBodyHash('{"id":9007199254740993}') })
 */
export function messageBodyHash(body: string | Buffer): string {
  return sha256(`#m${canonicalText(body)}`);
}

/** A message body as text, when it is JSON that could hold numbers a parse rounds. */
function bodyText(body: string | Buffer | undefined): string | undefined {
  if (body === undefined || typeof body === 'string') return body;
  return body.toString('utf8');
}

/**
 * The hash of an invocation's validated input, as the fingerprint a repeated header or custom
 * key must match. For HTTP the method and path are part of the request, so they are part of
 * it; and where the JSON body holds numbers a plain parse rounds (`12345678901234567891` and
 * `…892` both read as `…7000`), their exact values too, so two requests the function cannot
 * tell apart are still two requests. The same for a message whose raw body is JSON.
 *
 * @throws IdempotencyInputUnhashableError when the input holds a value that cannot be seen, its field under `input`.
 */
function inputHash(ctx: Context): string {
  const trigger = ctx.trigger;
  if (trigger.kind !== 'http') {
    const text = bodyText(messageBodyOf(trigger));
    const exact = text === undefined ? undefined : jsonExactNumbers(text);
    return exact === undefined ? hashOfInput(ctx.input, false) : hashOfInput([ctx.input, exact], true);
  }
  const parts = requestParts(ctx, trigger.request);
  const query = queryOf(trigger.request);
  return hashOfInput(query === undefined ? parts : withQuery(parts, query), true);
}

/**
 * `canonicalHash(value)`, where `value` is the input itself or (`inWrapper`) an array holding
 * it with request parts that are plain data: a value it refuses can only be in the input, so
 * the error names its field under `input` (`input.token`), not under the array.
 */
function hashOfInput(value: unknown, inWrapper: boolean): string {
  try {
    return canonicalHash(value);
  } catch (error) {
    if (!(error instanceof IdempotencyInputUnhashableError)) throw error;
    const field = error.issues?.[0]?.field ?? '';
    const dot = field.indexOf('.');
    // In the array the input is one member (`2.token`): its index is dropped.
    const inInput = !inWrapper ? field : dot < 0 ? '' : field.slice(dot + 1);
    throw new IdempotencyInputUnhashableError(inInput === '' ? 'input' : `input.${inInput}`, error.typeName);
  }
}

type HttpTriggerRequest = Extract<Trigger, { kind: 'http' }>['request'];

/** An HTTP request's method, path and validated input, and the exact numbers of its JSON body where a parse rounds some. */
function requestParts(ctx: Context, request: HttpTriggerRequest): unknown[] {
  const { method, path, rawBody } = request;
  const exact = rawBody === undefined ? undefined : jsonExactNumbers(rawBody);
  return exact === undefined ? [method, path, ctx.input] : [method, path, ctx.input, exact];
}

/** `requestParts` with the query: five members, where a request without a query has three or four, so the two never meet. */
function withQuery(parts: unknown[], query: Record<string, string[]>): unknown[] {
  return [parts[0], parts[1], parts[2], parts[3] ?? null, query];
}

/**
 * Every value of every query parameter, or undefined when there is none. A POST with a body
 * has only the body as `ctx.input`, so its query (`?to=alice`, `?dry=1`) is counted here:
 * otherwise two requests that differ only in it would be one request to the key. Parameter
 * order does not count (names are sorted); the order of one name's repeated values does.
 */
function queryOf(request: { multiQuery?: Record<string, string[]> }): Record<string, string[]> | undefined {
  const query = request.multiQuery;
  if (query === undefined) return undefined;
  for (const _ in query) return query;
  return undefined;
}

/** A message with its payload as delivered is keyed by that payload; anything else by `inputHash`. */
function inputKey(ctx: Context): ResolvedKey {
  const body = messageBodyOf(ctx.trigger);
  return { kind: 'input', value: body === undefined ? inputHash(ctx) : messageBodyHash(body) };
}

/** A short hash naming the function, so two functions never share records. */
export function scopeOf(namespace: string): string {
  return keyHash(`steadyfn-idempotency\0${namespace}`).slice(0, 16);
}

/**
 * SHA-256 (base64url) of a key's text, one hash per string. A well-formed string hashes as its
 * UTF-8, as keys always have; one with a lone surrogate has no UTF-8 form (encoded, each would
 * become U+FFFD, so `'\ud800'`, `'\udc00'` and `'\ufffd'` would share a record), so it hashes as
 * the byte 0xFF — which no UTF-8 text contains — followed by its JSON text, which escapes them.
 */
function keyHash(text: string): string {
  if ((text as string & { isWellFormed(): boolean }).isWellFormed()) return sha256(text);
  return nodeCrypto().hash('sha256', Buffer.concat([LONE_SURROGATE_TAG, Buffer.from(JSON.stringify(text), 'utf8')]), 'base64url');
}

const LONE_SURROGATE_TAG = Buffer.from([0xff]);

/**
 * Whose records an HTTP invocation's key belongs to:
 * - `'principal'` (default): the authenticated caller, `ctx.principal` (see `@steadyfn/handler`):
 *   two callers that send the same key and request get a record each; anonymous callers share
 *   the function's records, as before.
 * - `'none'`: every caller shares the function's records (one answer per key, whoever asks).
 * - a function: the scope you name (a tenant, an account), or undefined for none. A blank
 *   string counts as undefined; any other non-string fails with `IDEMPOTENCY_SCOPE_INVALID`.
 *
 * Only HTTP invocations are scoped: a queue message, stream record or event has no caller, and
 * its key (a delivery id) already names one message.
 */
export type ScopeSource = 'principal' | 'none' | ((ctx: Context) => string | undefined);

/**
 * The scope of this invocation's key, hashed (no identity reaches the store), or undefined when
 * it has none: not HTTP, an anonymous caller, `'none'`.
 *
 * @throws IdempotencyScopeInvalidError when a scope function returns a non-string.
 */
export function callerScope(ctx: Context, source: ScopeSource): string | undefined {
  if (source === 'none' || ctx.trigger.kind !== 'http') return undefined;
  if (source === 'principal') {
    const principal = ctx.principal;
    return principal === undefined ? undefined : principalScope(principal);
  }
  const value: unknown = source(ctx);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new IdempotencyScopeInvalidError();
  return value.trim() === '' ? undefined : namedScope(value);
}

/**
 * The caller part of a store key under `scope: 'principal'`: a hash of the principal's
 * `source`, `issuer` and `id` (each its own JSON member, so no two principals share one). Pass
 * it to `storeKey` to find an authenticated caller's record by hand.
 *
 * @example storeKey(scopeOf('orders'), { kind: 'header', value: key }, principalScope({ id: 'user-7f3a', source: 'apigw-lambda-authorizer' }))
 */
export function principalScope(principal: Principal): string {
  return sha256(JSON.stringify(['principal', principal.source, principal.issuer ?? null, principal.id]));
}

/** The caller part of a store key when a `scope` function named `value` (a tenant, an account); for `storeKey`. */
export function namedScope(value: string): string {
  return sha256(JSON.stringify(['custom', value]));
}

const KIND_TAG: Record<KeyKind, string> = { header: 'h', delivery: 'd', input: 'i', custom: 'c' };

/**
 * `<scope>:<kind tag><hash of the key>` — what the store sees; never the client's key itself.
 * An input key is already a hash of the input, so it is not hashed twice. With a caller scope
 * (`callerScope`), the hash covers the caller too: the same key from another caller is
 * another record. Without one the key is what it always was.
 *
 * For a Kafka or Event Hubs record, a Service Bus message, or a Knative KafkaSource CloudEvent (`<source>#<id>`), with a
 * time, a `delivery` key's value is the delivery id, a NUL, and `ctx.trigger.time` as ISO 8601
 * UTC when it parses (`positionKey`, stream-position.ts); for a Pub/Sub message whose
 * trigger names its subscription or topic (`ctx.trigger.queue`), the message id, a NUL, and that.
 *
 * @param caller - the caller's hash: `principalScope(principal)` or `namedScope(value)`; omit it
 *   for anonymous callers, `scope: 'none'` and non-HTTP triggers.
 */
export function storeKey(scope: string, key: ResolvedKey, caller?: string): string {
  if (caller !== undefined) return `${scope}:${KIND_TAG[key.kind]}${keyHash(`${caller}\0${key.value}`)}`;
  return `${scope}:${KIND_TAG[key.kind]}${key.kind === 'input' ? key.value : keyHash(key.value)}`;
}

/**
 * Delivery ids name one message, so its payload needs no separate check — except a reusable
 * stream position (stream-position.ts), which a new record can take again.
 */
const DELIVERY_FINGERPRINT = LEGACY_DELIVERY_FINGERPRINT;

/**
 * What a repeated key must match: the validated input (and, for HTTP, the method, path and
 * query parameters; for HTTP and messages with a raw JSON body, the exact value of any number
 * the JSON parse rounded), so the same key sent with a different request is refused with 422.
 * An input key is its own fingerprint.
 */
export function fingerprintOf(ctx: Context, key: ResolvedKey): string {
  return fingerprintsOf(ctx, key).fingerprint;
}

/**
 * `fingerprintOf`, and as `legacy` the fingerprint earlier versions gave the same key: for a
 * header or custom key's HTTP request, the one before the query counted (method, path and
 * input only — every HTTP request's fingerprint now holds its query, an empty one too, so no
 * record written now has that form); for a reusable stream position, `'delivery'`. A record
 * such a version wrote is still matched by it, so a retry across the upgrade replays rather
 * than being refused as another request (for at most `ttlMs`; also a request with a query
 * meeting such a record written for the same key without one, which those versions could not
 * tell apart). The body is scanned once for both.
 */
export function fingerprintsOf(ctx: Context, key: ResolvedKey): { fingerprint: string; legacy?: string } {
  if (key.kind === 'delivery') {
    if (!isReusablePosition(ctx.trigger)) return { fingerprint: DELIVERY_FINGERPRINT };
    // The record's payload as delivered (else its validated input): the same position and time
    // with other bytes is IDEMPOTENCY_KEY_REUSED, not a replay. A record an earlier version wrote
    // (fingerprint 'delivery') under a key that did not change (no record time) still replays.
    const body = messageBodyOf(ctx.trigger);
    return { fingerprint: body === undefined ? inputHash(ctx) : messageBodyHash(body), legacy: LEGACY_DELIVERY_FINGERPRINT };
  }
  if (key.kind === 'input') return { fingerprint: key.value };
  const trigger = ctx.trigger;
  if (trigger.kind !== 'http') return { fingerprint: inputHash(ctx) };
  // Every request with its query, an empty one too: a request without one fingerprinted as the
  // legacy form would be taken, by a later request WITH a query under its key, for a record an
  // earlier version wrote (its legacy), and replayed instead of refused.
  const parts = requestParts(ctx, trigger.request);
  return { fingerprint: hashOfInput(withQuery(parts, queryOf(trigger.request) ?? {}), true), legacy: hashOfInput(parts, true) };
}
