/**
 * Where JSON text first goes wrong, for error messages that must not quote the text: V8 gives a
 * position for some syntax errors ("… at position 6") but for an unexpected token quotes the text
 * instead. Run only after `JSON.parse` has failed.
 */

/** Nesting deeper than this is not followed: the position is then left unknown. */
const MAX_DEPTH = 4_096;


const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * The offset (UTF-16 code units, from 0) of the first character that makes `text` invalid
 * JSON (RFC 8259) — `text.length` when it ends too early — or `undefined` when none is found
 * (the text is valid, or nested deeper than 4 096 levels).
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const stop: () => never = () => {
    throw i;
  };
  const space = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  const string = (): void => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop();
      if (c !== 0x5c) {
        i++;
        continue;
      }
      const escape = text[++i];
      if (escape === 'u') {
        i++;
        for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '')) stop();
      } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) i++;
      else stop();
    }
    stop();
  };
  const digits = (): void => {
    if (!isDigit(text[i])) stop();
    while (isDigit(text[i])) i++;
  };
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, stopping where V8 does: at the character that breaks it.
  const number = (): void => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) throw undefined;
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          if (text[i] !== '"') stop();
          string();
          space();
          if (text[i] !== ':') stop();
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === close) {
          i++;
          return;
        } else stop();
      }
    }
    if (c === '"') return string();
    if (c === '-' || isDigit(c)) return number();
    // A literal is followed as far as it matches, as V8 does (`nul"` is wrong at the quote).
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (word === undefined) stop();
    for (const letter of word) {
      if (text[i] !== letter) stop();
      i++;
    }
  };
  try {
    value(0);
    space();
    if (i < text.length) stop();
    return undefined;
  } catch (at) {
    return typeof at === 'number' ? at : undefined;
  }
}
