/**
 * The AWS X-Ray trace header (`X-Amzn-Trace-Id`, and SQS's `AWSTraceHeader` system
 * attribute) is not W3C Trace Context, but carries the same facts:
 *
 *   Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
 *
 * An X-Ray trace id is `1-<8 hex digits of epoch seconds>-<24 hex digits>`; its 32 hex digits
 * together are the W3C trace id, which is how AWS's own OpenTelemetry X-Ray propagator maps
 * them. `Parent` is the span id. `Sampled=1` is flag 01; `0`, `?` (decision deferred) or none
 * is 00. A header without a `Parent` (an ALB's, which has only `Root` and `Self`) names no
 * caller span, so it cannot become a `traceparent`.
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
 */
import { formatTraceparent } from './traceparent.js';

const ROOT = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/;
const PARENT = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

/**
 * The `traceparent` an X-Ray trace header stands for, or undefined when it is not a complete
 * one (no `Root` of version 1, no `Parent`, all-zero ids, a field given twice).
 *
 * @example
 * xrayToTraceparent('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
 * // '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01'
 */
export function xrayToTraceparent(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.length > 1024) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim().toLowerCase();
    if (key === 'Root') {
      if (root !== undefined) return undefined;
      root = value;
    } else if (key === 'Parent') {
      if (parent !== undefined) return undefined;
      parent = value;
    } else if (key === 'Sampled') {
      if (sampled !== undefined) return undefined;
      sampled = value;
    }
  }
  const match = root === undefined ? null : ROOT.exec(root);
  if (!match || parent === undefined || !PARENT.test(parent)) return undefined;
  const traceId = match[1]! + match[2]!;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parent)) return undefined;
  return formatTraceparent(traceId, parent, sampled === '1' ? 1 : 0);
}
