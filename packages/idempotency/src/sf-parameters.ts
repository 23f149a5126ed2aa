/**
 * The Parameters of a structured-field Item (RFC 9651 §3.1.2, which obsoletes RFC 8941), read
 * by the RFC's own parsing algorithm (§4.2.3.2) so a client's extension parameters never
 * change the key they follow. Nothing here keeps a parameter's value: the `Idempotency-Key`
 * draft defines none, and a recipient ignores those it does not know.
 */

/** Where the parameters after an item end, or why they are not parameters. */
export type ParametersScan = { ok: true; end: number } | { ok: false; reason: string };

const LCALPHA = /[a-z]/;
const DIGIT = /[0-9]/;
const KEY_CHAR = /[a-z0-9_.*-]/;
const ALPHA = /[A-Za-z]/;
// tchar (RFC 9110 §5.6.2), plus ':' and '/' as sf-token allows.
const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z:/-]/;
const BASE64_CHAR = /[A-Za-z0-9+/=]/;
const LOWER_HEX = /[0-9a-f]/;

/**
 * Reads `*( ";" *SP parameter )` from `text` at `start` (RFC 9651 §4.2.3.2): each `key` or
 * `key=bare-item` (integer, decimal, string, token, byte sequence, boolean, date or display
 * string). Stops at the first character that does not begin another parameter.
 *
 * @returns `{ ok: true, end }` — the index after the last parameter (`start` when there are
 *   none) — or `{ ok: false, reason }` naming what is malformed (never echoing the text).
 * @example scanParameters('"k";p=1;q', 3) // { ok: true, end: 9 }
 */
export function scanParameters(text: string, start: number): ParametersScan {
  let i = start;
  while (i < text.length && text[i] === ';') {
    i++;
    while (text[i] === ' ') i++;
    if (!LCALPHA.test(text[i] ?? '') && text[i] !== '*') return { ok: false, reason: 'Bad parameter name' };
    i++;
    while (i < text.length && KEY_CHAR.test(text[i]!)) i++;
    if (text[i] !== '=') continue;
    const end = bareItemEnd(text, i + 1);
    if (end < 0) return { ok: false, reason: 'Bad parameter value' };
    i = end;
  }
  return { ok: true, end: i };
}

/** The index after the bare item at `i` (RFC 9651 §4.2.3.1), or -1 when there is none. */
function bareItemEnd(text: string, i: number): number {
  const c = text[i] ?? '';
  if (c === '-' || DIGIT.test(c)) return numberEnd(text, i);
  if (c === '"') return stringEnd(text, i + 1);
  if (c === '*' || ALPHA.test(c)) {
    let j = i + 1;
    while (j < text.length && TOKEN_CHAR.test(text[j]!)) j++;
    return j;
  }
  if (c === ':') {
    let j = i + 1;
    while (j < text.length && BASE64_CHAR.test(text[j]!)) j++;
    return text[j] === ':' ? j + 1 : -1;
  }
  if (c === '?') return text[i + 1] === '0' || text[i + 1] === '1' ? i + 2 : -1;
  if (c === '@') {
    const end = numberEnd(text, i + 1);
    return end < 0 || text.slice(i + 1, end).includes('.') ? -1 : end;
  }
  if (c === '%' && text[i + 1] === '"') return displayStringEnd(text, i + 2);
  return -1;
}

/** sf-integer (at most 15 digits) or sf-decimal (at most 12 integer and 3 fraction digits). */
function numberEnd(text: string, i: number): number {
  let j = text[i] === '-' ? i + 1 : i;
  const first = j;
  if (!DIGIT.test(text[j] ?? '')) return -1;
  let dot = -1;
  for (; j < text.length; j++) {
    if (DIGIT.test(text[j]!)) continue;
    if (text[j] === '.' && dot < 0) {
      if (j - first > 12) return -1;
      dot = j;
      continue;
    }
    break;
  }
  if (dot < 0) return j - first > 15 ? -1 : j;
  const fraction = j - dot - 1;
  return fraction < 1 || fraction > 3 ? -1 : j;
}

/** sf-string after its opening quote: printable ASCII, `\"` and `\\` the only escapes. */
function stringEnd(text: string, i: number): number {
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c) {
      if (text[j + 1] !== '"' && text[j + 1] !== '\\') return -1;
      j++;
    } else if (c === 0x22) {
      return j + 1;
    } else if (c < 0x20 || c > 0x7e) {
      return -1;
    }
  }
  return -1;
}

/** sf-displaystring after `%"`: printable ASCII but `"` and `%`, which come as `%xx` (lower-case hex) of valid UTF-8. */
function displayStringEnd(text: string, i: number): number {
  const bytes: number[] = [];
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x25) {
      const hex = text.slice(j + 1, j + 3);
      if (hex.length !== 2 || !LOWER_HEX.test(hex[0]!) || !LOWER_HEX.test(hex[1]!)) return -1;
      bytes.push(Number.parseInt(hex, 16));
      j += 2;
    } else if (c === 0x22) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
      } catch {
        return -1;
      }
      return j + 1;
    } else if (c < 0x20 || c > 0x7e) {
      return -1;
    } else {
      bytes.push(c);
    }
  }
  return -1;
}
