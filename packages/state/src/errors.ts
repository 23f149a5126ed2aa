import { ConfigurationError, connectionFailure, SteadyError, type ConnectionFailure } from '@steadyfn/handler/internal';
import { cutAt, scrubText } from '@steadyfn/handler/internal';
import type { ZodType } from 'zod';

/** One thing wrong with the state: a source that failed to load, or a value the schema rejected. */
export interface StateIssue {
  /** The source's name (its key in `sources`). */
  source: string;
  /** `load`: the source could not be read or decoded. `invalid`: the schema rejected its value. */
  kind: 'load' | 'invalid';
  /**
   * Dotted path from the state's root, starting with the source name, e.g. `flags.maxItems`; a
   * key the schema does not name itself (a record's key, from the store) is `*`: `flags.*`.
   */
  field: string;
  /** What went wrong, in words; never the value itself. */
  message: string;
  /**
   * What was expected there, when known: for `invalid`, the schema's words (`number`,
   * `"on" | "off"`, `number <= 5`, `string in email format`; as the handler's `VALIDATION_FAILED`
   * issues); for `load`, the type a Redis key should hold (`a string`, `a hash`, `a stream`) when
   * it held another, or `UTF-8 text`.
   */
  expected?: string;
}

const MAX_MESSAGE = 1_000;

/** How many failures a log line lists; the rest are counted (`moreFailures`). */
const LOGGED_FAILURES = 20;

/**
 * The failures as a log line carries them: the first 20, each through `pick`, and how many
 * more there were — one per item of a large state that fails item by item would make a line of
 * megabytes, past what log pipelines take in one event (CloudWatch: 256 KB).
 */
export function failuresForLog<T>(failures: ReadonlyArray<StateIssue>, pick: (failure: StateIssue) => T): { failures: T[]; moreFailures?: number } {
  const listed = failures.slice(0, LOGGED_FAILURES).map(pick);
  return failures.length > LOGGED_FAILURES ? { failures: listed, moreFailures: failures.length - LOGGED_FAILURES } : { failures: listed };
}

/**
 * The state could not be built. `code` is `STATE_UNAVAILABLE` when a source failed (retryable:
 * the store may be back soon) and `STATE_INVALID` when every source loaded but the schema
 * rejected the data. `failures` names each source and path; it is kept out of `issues` so an
 * HTTP caller never sees the layout of internal state (the error is not exposed). Retryable,
 * unless a source failed with a terminal error of its own (a `ConfigurationError`, e.g. from a
 * `@steadyfn/connections` handle with no address or no driver): a deploy fixes that, not a retry.
 *
 * `STATE_INVALID` is retryable on purpose: the message being handled is not at fault, and an
 * operator fixes the stored state without a deploy. Terminal, it would be acknowledged and
 * dropped under the handler's `terminalErrors: 'ack'` (every message arriving while the state is
 * bad, lost); retryable, the queue redelivers it until the state is fixed or its redrive policy
 * (`maxReceiveCount`) moves it to the dead-letter queue.
 */
export class StateError extends SteadyError {
  /** Always `'StateError'`. */
  override readonly name = 'StateError';
  /** Every failed source and every path the schema refused, at once (never a value). */
  readonly failures: ReadonlyArray<StateIssue>;

  /**
   * @param failures - What went wrong; any `kind: 'load'` makes it `STATE_UNAVAILABLE` (503), else `STATE_INVALID` (500).
   * @param options - `cause`: the first source failure, kept off the answer and the logs.
   *   `terminal`: a source failed with a terminal error (not retryable); default false.
   */
  constructor(failures: ReadonlyArray<StateIssue>, options: { cause?: unknown; terminal?: boolean } = {}) {
    const unavailable = failures.some((f) => f.kind === 'load');
    super(unavailable ? 'STATE_UNAVAILABLE' : 'STATE_INVALID', summarise(failures), {
      status: unavailable ? 503 : 500,
      retryable: options.terminal !== true,
      expose: false,
      cause: options.cause,
    });
    this.failures = failures;
  }
}

function summarise(failures: ReadonlyArray<StateIssue>): string {
  const parts = failures.map((f) => `${f.field || f.source}: ${f.message}`);
  const text = `State could not be loaded (${failures.length} issue${failures.length === 1 ? '' : 's'}): ${parts.join('; ')}`;
  return text.length > MAX_MESSAGE ? `${cutAt(text, MAX_MESSAGE - 1)}…` : text;
}

/**
 * A source reports a failure it understood (not found, not JSON) with this, so the message
 * is its own and not a driver's.
 */
export class SourceError extends Error {
  /** Always `'SourceError'`. */
  override readonly name = 'SourceError';
  /**
   * @param message - The failure in the source's own words; never the data (URL credentials are scrubbed).
   * @param path - Dotted path inside the source's value, when the failure is about one part of it.
   * @param expected - What the store should have held there (`a hash`), copied to the failure's `expected`.
   */
  constructor(
    message: string,
    /** Path inside the source's value, when the failure is about one part of it (an NDJSON line). */
    readonly path: string = '',
    /** What the store should have held (`a string`, `a hash`, `a stream`), when it held another. */
    readonly expected?: string,
  ) {
    super(message);
  }
}

/**
 * A short, payload-free description of anything thrown by a store client or a custom source:
 * its class and code (`MongoServerSelectionError`, `Error ECONNREFUSED`, a Redis reply's
 * `ReplyError NOPERM`), or for ioredis' code-less connection errors the kind in our words
 * (`Error (Redis connection closed or not writable)`, `Error (Redis command timed out)`), never
 * its message —
 * driver and fetch messages carry values and credentials (`https://user:pass@host`). A
 * `SourceError` or a `ConfigurationError` is our own words and is kept, with any URL
 * credentials scrubbed.
 */
export function describeFailure(thrown: unknown): string {
  // A configuration error's message is written to name the option, never a value: it says what to fix.
  if (thrown instanceof SourceError || thrown instanceof ConfigurationError) return truncate(scrubText(thrown.message));
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code ?? replyCode(thrown);
    const name = thrown.name || 'Error';
    if (typeof code === 'string' || typeof code === 'number') return `${name} ${code}`;
    const kind = connectionFailure(thrown);
    const words = kind === undefined ? undefined : CONNECTION_WORDS[kind];
    return words === undefined ? name : `${name} (${words})`;
  }
  return typeof thrown === 'string' ? 'a thrown string' : 'unknown failure';
}

/**
 * A connection failure the driver throws as a bare `Error` (ioredis: no code, the meaning only
 * in a message that is never kept), in our words. Socket errors carry a code and MongoDB's
 * classes name themselves, so they need none.
 */
const CONNECTION_WORDS: Partial<Record<ConnectionFailure, string>> = {
  'redis-connection': 'Redis connection closed or not writable',
  'redis-cluster-down': 'no Redis Cluster node reachable',
  'redis-timeout': 'Redis command timed out',
};

/**
 * The error code of a Redis error reply (ioredis' `ReplyError`, on a `Redis` or a `Cluster`,
 * carries none of its own): the reply's first word, upper-case by the RESP convention (`NOPERM`,
 * `OOM`, `LOADING`, `READONLY`) — never the rest, which may name keys.
 */
function replyCode(error: Error): string | undefined {
  if (error.name !== 'ReplyError') return undefined;
  return /^([A-Z][A-Z_]{1,31})(?:\s|$)/.exec(error.message)?.[1];
}

function truncate(text: string): string {
  return text.length > 300 ? `${cutAt(text, 299)}…` : text;
}

/**
 * The issues for a schema that threw instead of reporting an issue (a `transform` or `refine`
 * that throws on the value it is given, e.g. `.transform(JSON.parse)`): zod keeps no path for a
 * throw, so each source's own part of an object schema is tried alone to name the sources where
 * it throws (`failed`: sources that did not load, not tried); otherwise the root. Never the
 * thrown message (a parser's quotes the value), a SourceError's or ConfigurationError's included.
 */
export async function schemaThrewIssues(schema: ZodType, raw: Record<string, unknown>, names: string[], failed: ReadonlySet<string>, thrown: unknown): Promise<StateIssue[]> {
  // A SourceError or ConfigurationError thrown by a user's transform is theirs, not ours: its
  // message may quote the value, so only its class (and code) is kept, as for any other throw.
  const what = thrown instanceof SourceError ? thrown.name : thrown instanceof ConfigurationError ? `${thrown.name} ${thrown.code}` : describeFailure(thrown);
  const message = `the schema threw ${what} instead of reporting an issue (a transform or refinement that throws on this value: report it with ctx.addIssue)`;
  const shape = (schema as { shape?: unknown }).shape;
  const at: string[] = [];
  if (typeof shape === 'object' && shape !== null) {
    for (const name of names) {
      const part = (shape as Record<string, { safeParseAsync?: (value: unknown) => Promise<unknown> }>)[name];
      if (failed.has(name) || typeof part?.safeParseAsync !== 'function') continue;
      try {
        await part.safeParseAsync(raw[name]);
      } catch {
        at.push(name);
      }
    }
  }
  if (at.length === 0) return [{ source: '(root)', kind: 'invalid', field: '', message }];
  return at.map((source) => ({ source, kind: 'invalid', field: source, message }));
}
