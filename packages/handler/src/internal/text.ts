/**
 * Cutting text for messages and logs without splitting a character; decoding bytes in a
 * declared charset.
 */

/**
 * The first `max` UTF-16 code units of `text`, one fewer when the cut would split a surrogate
 * pair (an emoji is kept whole or dropped whole, never left as a lone high surrogate).
 * `text` no longer than `max` comes back as it is.
 */
export function cutAt(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * The text `bytes` stand for in `charset` (a `Content-Type` charset label, WHATWG Encoding
 * Standard names: `iso-8859-1` reads as windows-1252, as browsers do), or undefined when the
 * charset is absent, names UTF-8, or is a label Node does not know — the caller's UTF-8 reading
 * applies then. A byte order mark is kept as a character.
 */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string | undefined {
  if (charset === undefined) return undefined;
  try {
    const decoder = new TextDecoder(charset, { ignoreBOM: true });
    return decoder.encoding === 'utf-8' ? undefined : decoder.decode(bytes);
  } catch {
    return undefined; // a label this Node.js's TextDecoder cannot decode
  }
}
