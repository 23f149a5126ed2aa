/** Schema issues (zod's shape) as the `FieldIssue`s every steadyfn error carries. */
import type { FieldIssue } from '../errors.js';

/** An issue as zod (and other Standard Schema validators) report it. */
export interface ZodLikeIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  expected?: unknown;
}

/** The dotted path of an issue, e.g. `items.0.sku`; `''` for the root. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p))).join('.');
}

/**
 * Maps validator issues to `{ field, message, expected? }`, `expected` taken from the issue
 * when the validator names it (zod's `invalid_type`).
 *
 * @example
 * toFieldIssues(result.error.issues); // [{ field: 'qty', message: 'Too small: expected number to be >0' }]
 */
export function toFieldIssues(issues: ReadonlyArray<ZodLikeIssue>): FieldIssue[] {
  return issues.map((issue) => {
    const out: FieldIssue = { field: issuePath(issue.path), message: issue.message };
    if (typeof issue.expected === 'string') out.expected = issue.expected;
    else if (issue.code === 'invalid_type' && issue.expected !== undefined) out.expected = String(issue.expected);
    return out;
  });
}
