import { describe, expect, it } from 'vitest';
import { parseMediaType, repeatedCharsets } from './media-type.js';

describe('repeatedCharsets', () => {
  it('every value of a charset repeated with different values, unquoted, in order', () => {
    expect(repeatedCharsets('text/plain; charset=utf-8; charset=latin1')).toEqual(['utf-8', 'latin1']);
    expect(repeatedCharsets('text/plain;CHARSET="a;b";charset=utf-8')).toEqual(['a;b', 'utf-8']);
    expect(repeatedCharsets('text/plain; charset=utf-8; x=1; Charset = shift_jis')).toEqual(['utf-8', 'shift_jis']);
  });

  it('undefined for one charset, the same one twice (any case, quoted), or charset inside a quoted value', () => {
    expect(repeatedCharsets(undefined)).toBeUndefined();
    expect(repeatedCharsets('text/plain; charset=utf-8')).toBeUndefined();
    expect(repeatedCharsets('text/plain; charset=utf-8; charset="UTF-8"')).toBeUndefined();
    expect(repeatedCharsets('text/plain; note="charset=a;charset=b"; charset=utf-8')).toBeUndefined();
    expect(repeatedCharsets('text/plain; xcharset=a; charset=b')).toBeUndefined();
  });

  it('(control) parseMediaType keeps the first, as WHATWG MIME Sniffing does', () => {
    expect(parseMediaType('text/plain; charset=utf-8; charset=latin1')?.charsetName).toBe('utf-8');
  });
});
