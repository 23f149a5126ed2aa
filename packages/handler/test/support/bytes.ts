/**
 * Request bodies for the binary-body tests: random bytes around sequences that are not UTF-8
 * (a lone continuation byte, an overlong encoding, a truncated sequence, 0xFF), so a body
 * that went through a text decode anywhere on the way comes out different.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

const NOT_UTF8 = [0x80, 0xc0, 0xaf, 0xe2, 0x82, 0xff, 0xfe, 0x00, 0xc3, 0x28];

export function binaryBody(size = 2048): Buffer {
  const body = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(size), Buffer.from(NOT_UTF8), randomBytes(16)]);
  if (isUtf8RoundTrip(body)) throw new Error('the test body must not survive a UTF-8 round trip');
  return body;
}

/** Whether the bytes survive decoding as UTF-8 and encoding again (false for any invalid UTF-8). */
export function isUtf8RoundTrip(bytes: Uint8Array): boolean {
  return Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf8').equals(bytes);
}

/** What a function saw of a binary request: its input and the request's exact bytes. */
export interface SeenBody {
  input: unknown;
  rawBytes: Buffer | undefined;
}

/**
 * The body arrived byte for byte: the input is the very Buffer of `request.rawBytes`, equal to
 * what was sent; an empty body has no bytes at all.
 */
export function expectBytesArrived(seen: SeenBody | undefined, sent: Uint8Array): void {
  expect(seen).toBeDefined();
  if (sent.length === 0) {
    expect(seen!.rawBytes).toBeUndefined();
    return;
  }
  expect(Buffer.isBuffer(seen!.input)).toBe(true);
  expect([...(seen!.input as Buffer)]).toEqual([...sent]);
  expect(seen!.rawBytes).toBe(seen!.input);
}
