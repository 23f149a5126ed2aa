/**
 * A schema's issues as a round's failures carry them: zod's words where they name the schema,
 * never words from the store. A record's keys and a strict object's extra keys are the store's
 * (`sk_live_…` as a key of a `z.record()`), so they never reach a field or a message: a path
 * segment the schema does not name itself becomes `*` (`maskedPath`, shared with the handler's
 * validation errors), and issues that would list keys count them.
 */
import { maskedPath, toFieldIssues, type ZodLikeIssue } from '@steadyfn/handler/internal';
import type { ZodType } from 'zod';
import type { StateIssue } from './errors.js';

/**
 * Each issue as a round's failure, `source` from the unmasked head of its path (a source name):
 * - `unrecognized_keys` (a strict object's extra keys) is counted, `2 unrecognized keys`, at the
 *   path of the object holding them;
 * - `invalid_key` (a record's or map's key its key schema refuses) is counted per record,
 *   `1 key not matching the schema`, at the record's path, `expected` from the key schema
 *   (`string matching /^flag_/`);
 * - any other issue keeps zod's message — which in zod 4's locale names what the schema expects
 *   and the received value's type, never the value — at its masked path (`maskedPath` from `@steadyfn/handler/internal`: a record's, a map's or a
 *   catchall's key is `*`; shape keys, enum record keys and indexes are kept).
 */
export function schemaFailures(schema: ZodType, issues: ReadonlyArray<ZodLikeIssue>, roots: ReadonlyArray<string>): StateIssue[] {
  const out: StateIssue[] = [];
  const keyCounts = new Map<string, { failure: StateIssue; count: number }>();
  for (const issue of issues) {
    const head = issue.path[0];
    const source = head === undefined ? '(root)' : typeof head === 'symbol' ? head.toString() : String(head);
    const raw = issue as ZodLikeIssue & { keys?: unknown; issues?: ZodLikeIssue[] };
    if (issue.code === 'invalid_key') {
      const [field] = toFieldIssues([{ path: maskedPath(schema, issue.path.slice(0, -1), roots), message: '' }]);
      const counted = keyCounts.get(`${source}\0${field!.field}`);
      if (counted) {
        counted.count += 1;
        counted.failure.message = `${counted.count} keys not matching the schema`;
        continue;
      }
      const failure: StateIssue = { source, kind: 'invalid', field: field!.field, message: '1 key not matching the schema' };
      const inner = Array.isArray(raw.issues) && raw.issues.length > 0 ? toFieldIssues([raw.issues[0]!])[0]!.expected : undefined;
      if (inner !== undefined) failure.expected = inner;
      keyCounts.set(`${source}\0${field!.field}`, { failure, count: 1 });
      out.push(failure);
      continue;
    }
    const [field] = toFieldIssues([{ ...issue, path: maskedPath(schema, issue.path, roots) }]);
    if (issue.code === 'unrecognized_keys') {
      const count = Array.isArray(raw.keys) ? raw.keys.length : 0;
      field!.message = count > 0 ? `${count} unrecognized key${count === 1 ? '' : 's'}` : 'unrecognized keys';
      // The handler's `expected: 'no other keys'` is left out: a state failure says it in its message.
      delete field!.expected;
    }
    out.push({ source, kind: 'invalid', ...field! });
  }
  return out;
}
