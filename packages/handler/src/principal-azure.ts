/**
 * The `x-ms-client-principal` header of Azure App Service authentication ("Easy Auth") and
 * Azure Static Web Apps: base64-encoded JSON, in one shape per platform.
 *
 * - App Service / Functions authentication: `{ auth_typ, claims: [{ typ, val }], name_typ, role_typ }`
 *   (Microsoft Learn, "Work with user identities in Azure App Service authentication",
 *   "Decode the client principal header").
 * - Static Web Apps (managed and linked APIs): `{ identityProvider, userId, userDetails, userRoles: [] }`
 *   (Microsoft Learn, "Accessing user information in Azure Static Web Apps", "API functions";
 *   the `claims` array of `/.auth/me` is not sent to APIs, read here when present).
 *
 * The decoders never throw and never echo the header: a value that is not strict base64, not
 * UTF-8, not a JSON object of that shape, or longer than `MAX_CLIENT_PRINCIPAL_LENGTH` is
 * `undefined`.
 */
import { decodeBase64Strict } from './internal/base64.js';
import { jsonTextTooDeep } from './internal/json.js';
import { getOwn, isRecord, setOwn, type Rec } from './internal/record.js';
import { makePrincipal, singleHeader, type PrincipalReader } from './principal.js';

/**
 * The longest `x-ms-client-principal` read, in base64 characters (about 48 KiB of JSON: an
 * Entra ID principal with the 200 group claims a token carries at most fits). Longer is none.
 * @default 65536
 */
export const MAX_CLIENT_PRINCIPAL_LENGTH = 65_536;

/** Claims of a principal: each claim type to its value, or to every value when the type repeats. */
export type PrincipalClaims = Readonly<Record<string, string | readonly string[]>>;

/** What a client principal header says about the caller. */
export interface ClientPrincipal {
  /** The caller's id, where the shape has one (Static Web Apps `userId`). */
  id: string | undefined;
  /** The identity provider (`auth_typ` / `identityProvider`). */
  issuer: string | undefined;
  claims: PrincipalClaims | undefined;
  roles: readonly string[] | undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The decoded JSON object of a client principal header, or undefined. */
function decode(header: string | undefined): Rec | undefined {
  if (header === undefined || header.length > MAX_CLIENT_PRINCIPAL_LENGTH) return undefined;
  const bytes = decodeBase64Strict(header);
  if (bytes === undefined) return undefined;
  try {
    const text = UTF8.decode(bytes);
    if (jsonTextTooDeep(text, 8)) return undefined;
    const doc: unknown = JSON.parse(text);
    return isRecord(doc) ? doc : undefined;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `[{ typ, val }]` as claims (a repeated type keeps every value, in order); undefined when not such an array. */
function claimList(value: unknown): Record<string, string | string[]> | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Record<string, string | string[]> = {};
  for (const claim of value) {
    if (!isRecord(claim)) return undefined;
    const typ = getOwn(claim, 'typ');
    const val = getOwn(claim, 'val');
    if (typeof typ !== 'string' || typeof val !== 'string') return undefined;
    const previous = getOwn(out, typ);
    setOwn(out, typ, previous === undefined ? val : typeof previous === 'string' ? [previous, val] : [...previous, val]);
  }
  return out;
}

function values(claims: Record<string, string | string[]>, typ: string): string[] {
  const v = getOwn(claims, typ);
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

/**
 * An App Service authentication `x-ms-client-principal`: the provider (`auth_typ`, required),
 * the claims, and the roles (the claims of type `role_typ`). Undefined when malformed.
 */
export function appServicePrincipal(header: string | undefined): ClientPrincipal | undefined {
  const doc = decode(header);
  // `auth_typ` tells this shape from the Static Web Apps one (which may carry `claims` too).
  if (doc === undefined || typeof getOwn(doc, 'auth_typ') !== 'string') return undefined;
  const claims = claimList(getOwn(doc, 'claims'));
  if (claims === undefined) return undefined;
  const roleTyp = nonEmpty(getOwn(doc, 'role_typ'));
  const roles = roleTyp === undefined ? [] : values(claims, roleTyp);
  return { id: undefined, issuer: nonEmpty(getOwn(doc, 'auth_typ')), claims, roles };
}

/**
 * A Static Web Apps `x-ms-client-principal`: `userId`, `identityProvider`, `userRoles`, and
 * `userDetails` (as the claim `userDetails`, with any `claims`). Undefined when malformed or
 * without a `userId` (an anonymous caller).
 */
export function staticWebAppsPrincipal(header: string | undefined): ClientPrincipal | undefined {
  const doc = decode(header);
  if (doc === undefined) return undefined;
  const id = nonEmpty(getOwn(doc, 'userId'));
  const userRoles = getOwn(doc, 'userRoles');
  if (id === undefined || !(userRoles === undefined || (Array.isArray(userRoles) && userRoles.every((r) => typeof r === 'string')))) return undefined;
  const listed = getOwn(doc, 'claims');
  const claims = listed === undefined || listed === null ? {} : claimList(listed);
  if (claims === undefined) return undefined;
  const details = nonEmpty(getOwn(doc, 'userDetails'));
  if (details !== undefined) setOwn(claims, 'userDetails', details);
  return { id, issuer: nonEmpty(getOwn(doc, 'identityProvider')), claims, roles: (userRoles as string[] | undefined) ?? [] };
}

/**
 * The Azure adapter's reader (HTTP trigger only). App Service authentication: the id and
 * provider from `x-ms-client-principal-id` / `-idp` (as before `x-ms-client-principal` was
 * read, so a caller keeps its id), claims and roles from `x-ms-client-principal`. Static Web
 * Apps: all from `x-ms-client-principal`. A `x-ms-client-principal` that is there but
 * malformed (not base64 JSON of the trusted platform's shape, or too long) is nobody: the
 * platform always sends it well-formed. Each only with its opt-in.
 */
export const azurePrincipal: PrincipalReader = (trigger, _raw, trusted) => {
  if (trigger.source !== 'azure-http') return undefined;
  const present = getOwn(trigger.request.headers, 'x-ms-client-principal') !== undefined;
  const header = singleHeader(trigger, 'x-ms-client-principal'); // undefined when repeated: nobody
  if (trusted.has('azure-app-service')) {
    const id = singleHeader(trigger, 'x-ms-client-principal-id');
    const idp = singleHeader(trigger, 'x-ms-client-principal-idp');
    if (!present) return makePrincipal('azure-app-service', id, idp);
    const decoded = appServicePrincipal(header);
    if (decoded !== undefined) return makePrincipal('azure-app-service', id, idp ?? decoded.issuer, { claims: decoded.claims, roles: decoded.roles });
  }
  if (trusted.has('azure-static-web-apps') && present) {
    const decoded = staticWebAppsPrincipal(header);
    if (decoded !== undefined) return makePrincipal('azure-static-web-apps', decoded.id, decoded.issuer, { claims: decoded.claims, roles: decoded.roles });
  }
  return undefined;
};
