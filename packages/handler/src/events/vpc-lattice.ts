/**
 * Amazon VPC Lattice with a Lambda function as target: an HTTP request in one of the two event
 * structures a Lambda target group sends ("Lambda functions as targets in VPC Lattice",
 * https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html; AWS Lambda Developer
 * Guide, "Using AWS Lambda with Amazon VPC Lattice"):
 * - v1, flat snake_case: `raw_path`, `method`, `headers` (one value each),
 *   `query_string_parameters`, `body`, `is_base64_encoded`;
 * - v2 (`version: '2.0'`): `path`, `method`, `headers` and `queryStringParameters` (each value a
 *   list of values, or one value as Powertools' sample writes it), `body`, `isBase64Encoded`,
 *   and a `requestContext` naming the service network, service and target group.
 * The function answers `{ statusCode, statusDescription, headers, body, isBase64Encoded }`
 * (one value per header), as an ALB target without multi-value headers does: see formatHttp.
 */
import { decodeBody } from '../http.js';
import { eventHeaders } from '../http-event-maps.js';
import { queryFromObject } from '../http-query.js';
import { isRecord, str, type Rec } from '../internal/record.js';
import type { HttpRequest } from '../types.js';

/** Whether `event` is a VPC Lattice request: v1 by `raw_path` and `method`, v2 by `requestContext.serviceNetworkArn`. */
export function isVpcLatticeEvent(event: Rec): boolean {
  if (typeof event.raw_path === 'string' && typeof event.method === 'string') return true;
  return isRecord(event.requestContext) && typeof event.requestContext.serviceNetworkArn === 'string';
}

/** Event structure v2 (`version: '2.0'`, camelCase); v1 is snake_case. */
function isV2(event: Rec): boolean {
  return event.version === '2.0' || (event.raw_path === undefined && isRecord(event.requestContext));
}

/** Whether the request body arrived base64 (`isBase64Encoded` in v2, `is_base64_encoded` in v1). */
export function latticeBodyIsBase64(event: Rec): boolean {
  return (isV2(event) ? event.isBase64Encoded : event.is_base64_encoded) === true;
}

/**
 * The request a VPC Lattice event carries. The path is passed through as Lattice sends it,
 * without a query string should one be appended. No `sourceIp`: Lattice reports the client in
 * no field of its own (`requestContext.identity` names its VPC and IAM principal).
 *
 * @throws MalformedEventError when the body is marked base64 but is not.
 */
export function latticeRequest(event: Rec): HttpRequest {
  const v2 = isV2(event);
  const { headers, multiHeaders } = eventHeaders({ headers: event.headers }, false);
  const { query, multiQuery } = queryFromObject(v2 ? event.queryStringParameters : event.query_string_parameters);
  const { rawBody, rawBytes } = decodeBody(event.body, latticeBodyIsBase64(event));
  const path = str(v2 ? event.path : event.raw_path) ?? '/';
  const q = path.indexOf('?');
  return {
    method: (str(event.method) ?? 'GET').toUpperCase(),
    path: q === -1 ? path : path.slice(0, q),
    headers,
    multiHeaders,
    query,
    multiQuery,
    rawBody,
    rawBytes,
  };
}
