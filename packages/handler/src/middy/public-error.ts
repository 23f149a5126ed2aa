/**
 * What the middy path leaves middy to throw once the steadyfn side of a request has failed: the
 * runtime logs every enumerable property of the error it is thrown (Lambda's Node runtime,
 * aws-lambda-ric: its "Invoke Error" line), and a `SteadyError`'s `issues` carry messages a
 * validator may write the input into. As `toPublicError` does for `handler()`.
 */
import { loggedIssues, SteadyError, type FieldIssue } from '../errors.js';

/**
 * `thrown` with the messages taken out of its issues: a `SteadyError` with `issues` keeps its
 * class, `code`, `status`, `expose`, `field` and message (middy's error handlers read them), its
 * `issues` becoming `{ field, expected }` each (at most 10, as `loggedIssues` has them). Changed in
 * place — middy 7.9 throws the value it caught, whatever `request.error` then holds — or, for a
 * frozen error, copied (its class kept): use the value returned. Anything else as it is.
 *
 * @param thrown - What fails the request, once every steadyfn hook has run with it.
 * @returns The same value (or, frozen, a copy) without issue messages.
 * @example
 * request.error = withoutIssueMessages(request.error);
 */
export function withoutIssueMessages(thrown: unknown): unknown {
  if (!(thrown instanceof SteadyError) || !Array.isArray(thrown.issues)) return thrown;
  const issues = loggedIssues(thrown.issues) as FieldIssue[];
  const property = { value: issues, enumerable: true, writable: true, configurable: true };
  try {
    Object.defineProperty(thrown, 'issues', property);
    return thrown;
  } catch {
    // Frozen (or `issues` not configurable): a copy of the same class.
    return Object.create(Object.getPrototypeOf(thrown) as object, { ...Object.getOwnPropertyDescriptors(thrown), issues: property }) as unknown;
  }
}
