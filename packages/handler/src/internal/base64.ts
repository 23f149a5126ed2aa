/**
 * Strict base64, for bodies and payloads a provider hands over encoded. Node's decoder skips
 * any character it does not know, so junk in a body would silently become other bytes.
 */

/** Standard (RFC 4648 §4) or URL-safe (§5) alphabet, optional padding; line breaks and spaces allowed between groups (MIME-style wrapping). */
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/**
 * The bytes of a base64 text, or `undefined` when it holds anything but base64 characters,
 * padding in the wrong place, or a length no encoder produces (`4n + 1` characters). Line
 * breaks and spaces (wrapped encoders: PEM, the OpenWhisk Kafka feed) are ignored.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = /[\s]/.test(text) ? text.replace(/[\r\n\t ]/g, '') : text;
  if (!BASE64.test(compact)) return undefined;
  const unpadded = compact.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (compact.length !== unpadded.length && compact.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, unpadded.includes('-') || unpadded.includes('_') ? 'base64url' : 'base64');
}
