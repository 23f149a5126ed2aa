/**
 * Cutting text for messages and logs without splitting a character. (Bytes in a declared
 * charset are decoded strictly by `decodeStrict`, http-body-charset.ts.)
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
