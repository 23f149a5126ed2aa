/**
 * What the middy path leaves middy to throw once the steadyfn side of a request has failed: the
 * runtime logs every enumerable property of the error it is thrown (Lambda's Node runtime,
 * aws-lambda-ric: its "Invoke Error" line), and a `SteadyError`'s `issues` carry messages a
 * validator may write the input into. As `toPublicError` does for `handler()` (which throws its
 * own copy, so there the issues are reduced; here the error is the user's, so they are hidden).
 */
import { SteadyError } from '../errors.js';

/**
 * `thrown` with its issues hidden from the runtime's log: a `SteadyError`'s `issues` made
 * non-enumerable, values untouched — the runtime copies only enumerable properties into its
 * "Invoke Error" line, while middy's error handlers and the user's own code still read every
 * issue whole (the user's error object is theirs: its values are never rewritten). Class, `code`,
 * `status`, `expose`, `field` and message as they were. Changed in place — middy 7.9 throws the
 * value it caught, whatever `request.error` then holds — or, for a frozen error, copied (its
 * class kept): use the value returned. Anything else as it is.
 *
 * @param thrown - What fails the request, once every steadyfn hook has run with it.
 * @returns The same value (or, frozen, a copy) whose `issues` the runtime's log does not show.
 * @example
 * request.error = withoutIssueMessages(request.error);
 */
export function withoutIssueMessages(thrown: unknown): unknown {
  if (!(thrown instanceof SteadyError) || !Array.isArray(thrown.issues)) return thrown;
  const property = { value: thrown.issues, enumerable: false, writable: true, configurable: true };
  try {
    Object.defineProperty(thrown, 'issues', property);
    return thrown;
  } catch {
    // Frozen (or `issues` not configurable): a copy of the same class.
    return Object.create(Object.getPrototypeOf(thrown) as object, { ...Object.getOwnPropertyDescriptors(thrown), issues: property }) as unknown;
  }
}
