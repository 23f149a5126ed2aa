/**
 * Fuzz: the `x-ms-client-principal` decoders (App Service and Static Web Apps shapes, Microsoft
 * Learn "Work with user identities in Azure App Service authentication" and "Accessing user
 * information in Azure Static Web Apps"). Any text: never a throw, and what comes back is
 * well-formed. A well-formed principal of either shape round-trips exactly; the same bytes
 * corrupted (a character outside base64, a cut to a length no encoder makes) are nobody.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appServicePrincipal, MAX_CLIENT_PRINCIPAL_LENGTH, staticWebAppsPrincipal, type ClientPrincipal } from './principal-azure.js';

const b64 = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');

function checkShape(p: ClientPrincipal | undefined): void {
  if (p === undefined) return;
  for (const role of p.roles ?? []) expect(typeof role).toBe('string');
  for (const [key, value] of Object.entries(p.claims ?? {})) {
    expect(typeof key).toBe('string');
    if (typeof value !== 'string') for (const v of value) expect(typeof v).toBe('string');
  }
  if (p.issuer !== undefined) expect(p.issuer).not.toBe('');
}

const claimTypes = fc.constantFrom('roles', 'groups', 'name', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', '__proto__', 'constructor', 'toString');
const claim = fc.record({ typ: claimTypes, val: fc.string() });
const appServiceDoc = fc.record({
  auth_typ: fc.constantFrom('aad', 'google', 'github', 'twitter'),
  claims: fc.array(claim, { maxLength: 8 }),
  name_typ: fc.constant('name'),
  role_typ: fc.constantFrom('roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'),
});
const staticWebAppsDoc = fc.record({
  identityProvider: fc.constantFrom('github', 'aad', 'custom-oidc'),
  userId: fc.string({ minLength: 1 }),
  userDetails: fc.string({ minLength: 1 }),
  userRoles: fc.array(fc.string(), { maxLength: 4 }),
});

/** The claims an App Service document should decode to: each type to its value, or to every value in order. */
function expectedClaims(claims: ReadonlyArray<{ typ: string; val: string }>): Record<string, string | string[]> {
  const grouped = new Map<string, string[]>();
  for (const c of claims) grouped.set(c.typ, [...(grouped.get(c.typ) ?? []), c.val]);
  const out: Record<string, string | string[]> = {};
  for (const [typ, vals] of grouped) Object.defineProperty(out, typ, { value: vals.length === 1 ? vals[0] : vals, enumerable: true, writable: true, configurable: true });
  return out;
}

describe('x-ms-client-principal decoders', () => {
  it('any text (base64 of any JSON included): never throws; the result is well-formed', () => {
    const text = fc.oneof(fc.string(), fc.base64String(), fc.jsonValue().map(b64), fc.anything().map((v) => b64(v ?? null)));
    fc.assert(
      fc.property(text, (header) => {
        checkShape(appServicePrincipal(header));
        const swa = staticWebAppsPrincipal(header);
        checkShape(swa);
        if (swa) expect(swa.id).not.toBe('');
      }),
      { numRuns: 1000 },
    );
  });

  it('App Service shape round-trips: claims grouped by type in order, roles are the claims of role_typ, issuer auth_typ; no prototype is touched', () => {
    fc.assert(
      fc.property(appServiceDoc, (doc) => {
        const p = appServicePrincipal(b64(doc));
        expect(p).toBeDefined();
        expect(p!.issuer).toBe(doc.auth_typ);
        expect(p!.claims).toEqual(expectedClaims(doc.claims));
        expect(p!.roles).toEqual(doc.claims.filter((c) => c.typ === doc.role_typ).map((c) => c.val));
        expect(Object.getPrototypeOf(p!.claims)).toBe(Object.prototype);
        expect(({} as Record<string, unknown>).typ).toBeUndefined();
        // Not the other platform's shape.
        expect(staticWebAppsPrincipal(b64(doc))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('Static Web Apps shape round-trips: userId, identityProvider, userRoles, userDetails', () => {
    fc.assert(
      fc.property(staticWebAppsDoc, (doc) => {
        expect(staticWebAppsPrincipal(b64(doc))).toEqual({ id: doc.userId, issuer: doc.identityProvider, claims: { userDetails: doc.userDetails }, roles: doc.userRoles });
        expect(appServicePrincipal(b64(doc))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('corrupted encodings are nobody: a character outside base64 anywhere, a cut to 4n+1 characters, too long', () => {
    fc.assert(
      fc.property(fc.oneof(appServiceDoc, staticWebAppsDoc), fc.nat(), fc.constantFrom('!', '.', '%', '*', '"', '\u00e9'), (doc, at, junk) => {
        const header = b64(doc);
        const i = at % header.length;
        const dirty = header.slice(0, i) + junk + header.slice(i);
        expect(appServicePrincipal(dirty)).toBeUndefined();
        expect(staticWebAppsPrincipal(dirty)).toBeUndefined();
        const cut = header.replace(/=+$/, '').slice(0, 4 * Math.floor(i / 4) + 1);
        expect(appServicePrincipal(cut)).toBeUndefined();
        expect(staticWebAppsPrincipal(cut)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    const big = b64({ identityProvider: 'github', userId: 'u-1', userDetails: 'x'.repeat(MAX_CLIENT_PRINCIPAL_LENGTH), userRoles: [] });
    expect(big.length).toBeGreaterThan(MAX_CLIENT_PRINCIPAL_LENGTH);
    expect(staticWebAppsPrincipal(big)).toBeUndefined();
  });
});
