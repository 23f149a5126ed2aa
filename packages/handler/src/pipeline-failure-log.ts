/**
 * The one log line of a failed invocation: its code, whether it is retryable, and the facts
 * an operator needs to fix it — never the error's message, the payload or a stack.
 */
import type { Context } from './types.js';
import { ConfigurationError, loggedIssues, type SteadyError } from './errors.js';
import { causeFacts } from './internal/scrub.js';
import { InvalidHttpResultError } from './response.js';

/**
 * Logs a failed invocation (not a `NOT_PROCESSED` one: nothing failed in it) at its error's level.
 * Never throws: it runs outside the function's try, where a throw would turn one message's
 * failure into the whole batch's. A line that cannot be built whole (an error whose parts throw
 * when read) is logged with the code and retryable alone.
 */
export function logFailure(ctx: Context, error: SteadyError): void {
  try {
    failureLine(ctx, error);
  } catch {
    try {
      ctx.log.error('invocation failed', { trigger: ctx.trigger.kind, code: String(error.code), retryable: error.retryable === true });
    } catch {
      // Nothing left to log with: the answer still goes out.
    }
  }
}

function failureLine(ctx: Context, error: SteadyError): void {
  // A message an ordered batch did not run is reported, not logged: nothing failed in it.
  if (error.code === 'NOT_PROCESSED') return;
  const fields: Record<string, unknown> = { trigger: ctx.trigger.kind, code: error.code, retryable: error.retryable };
  // The option or part at fault: what an operator needs to fix it. A configuration error's
  // field is an option name; an invalid result's a part of the response. Neither holds values.
  if (error instanceof InvalidHttpResultError || error instanceof ConfigurationError) fields.field = error.field;
  // Which fields an invalid input or event got wrong (a queue message has no caller to tell):
  // paths and what was expected, never the messages (a refinement's may quote a value).
  else if (error.issues !== undefined && error.issues.length > 0) fields.issues = loggedIssues(error.issues);
  // The cause's class and code help an operator. Its message is not logged: drivers put
  // values in messages (a duplicate key, a password in a connection string). Read safely: a cause
  // that throws when read (a revoked Proxy) must not turn the answer into a raw rejection.
  Object.assign(fields, causeFacts(error));
  // Facts the error declares safe to log; they never replace the fields above.
  if (error.logFields !== undefined) for (const [name, value] of Object.entries(error.logFields)) if (!(name in fields)) fields[name] = value;
  // The error may choose its level (an expected, retried failure is not an alert); one made
  // by an older copy of the package has none, and gets the level of its status.
  const level = error.logLevel === 'warn' || error.logLevel === 'error' ? error.logLevel : error.status >= 500 ? 'error' : 'warn';
  ctx.log[level](error.status >= 500 ? 'invocation failed' : 'invocation rejected', fields);
}
