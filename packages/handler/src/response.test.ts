import { describe, expect, it } from 'vitest';
import { SteadyError, ValidationError } from './errors.js';
import { headerEntries, httpResult, InvalidHttpResultError, isHttpResponse, joinedHeaders, renderError, renderResult, toRenderedResponse } from './response.js';

/** The field renderResult names when it refuses a value. */
function refusal(value: unknown): string | undefined {
  try {
    renderResult(value);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidHttpResultError);
    expect(error).toMatchObject({ code: 'INVALID_HTTP_RESULT', status: 500, retryable: false, expose: false });
    return (error as InvalidHttpResultError).field;
  }
}

describe('renderResult', () => {
  it('turns a plain value into 200 JSON and undefined into 204', () => {
    const res = renderResult({ a: 1 });
    expect(isHttpResponse(res)).toBe(true);
    expect(res).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: '{"a":1}', isBase64: false });
    expect(renderResult(undefined)).toMatchObject({ status: 204, headers: {}, body: '' });
    expect(renderResult('hi').headers).toEqual({ 'content-type': 'text/plain; charset=utf-8' });
  });

  it('keeps the status and headers of httpResult, encodes bytes as base64', () => {
    const res = renderResult(httpResult({ status: 201, headers: { Location: '/x' }, body: new Uint8Array([0, 255]) }));
    expect(res).toMatchObject({ status: 201, headers: { Location: '/x', 'content-type': 'application/octet-stream' }, body: 'AP8=', isBase64: true });
    expect(renderResult(httpResult({ body: 'hi', headers: { 'Content-Type': 'text/html' } })).headers).toEqual({ 'Content-Type': 'text/html' });
  });

  it('keeps several values of a header as a list, merges names that differ in case, and moves set-cookie to cookies', () => {
    const res = renderResult(
      httpResult({
        headers: { link: ['</a>; rel=a', '</b>; rel=b'], 'X-Tag': 'one', 'x-tag': 'two', 'Set-Cookie': ['a=1', 'b=2'] },
        cookies: ['c=3; HttpOnly'],
        body: 'ok',
      }),
    );
    expect(res.headers).toEqual({ link: ['</a>; rel=a', '</b>; rel=b'], 'X-Tag': ['one', 'two'], 'content-type': 'text/plain; charset=utf-8' });
    expect(res.cookies).toEqual(['c=3; HttpOnly', 'a=1', 'b=2']);
    expect(headerEntries(res)).toContainEqual(['link', ['</a>; rel=a', '</b>; rel=b']]);
    expect(joinedHeaders(res)['X-Tag']).toBe('one, two');
  });

  it('keeps an already rendered response as it is (one render)', () => {
    const res = renderResult({ a: 1 });
    expect(renderResult(res)).toBe(res);
  });

  it('refuses what no HTTP response can carry, naming the part', () => {
    expect(refusal(httpResult({ status: 42 }))).toBe('status');
    expect(refusal(httpResult({ status: 200.5 }))).toBe('status');
    expect(refusal(httpResult({ headers: { 'x-bad': 'line\nbreak' } }))).toBe('headers.x-bad');
    expect(refusal(httpResult({ headers: { 'x-list': ['ok', 'bad\r'] } }))).toBe('headers.x-list');
    expect(refusal(httpResult({ headers: { 'bad name': 'v' } }))).toBe('headers.bad name');
    expect(refusal(httpResult({ headers: { 'x-n': 5 as never } }))).toBe('headers.x-n');
    expect(refusal(httpResult({ headers: { 'x-wide': 'ü€' } }))).toBe('headers.x-wide');
    expect(refusal(httpResult({ cookies: ['a=1\n'] }))).toBe('cookies');
    expect(refusal(httpResult({ headers: { 'set-cookie': ['a=1', 'b=2\r\nx: y'] } }))).toBe('headers.set-cookie');
    expect(refusal({ n: 1n })).toBe('body');
    expect(refusal(httpResult({ body: Symbol('x') }))).toBe('body');
    expect(refusal(httpResult({ headers: { 'x-latin1': 'café' } }))).toBeUndefined();
  });
});

describe('renderError', () => {
  it('answers problem+json with the fields and without hidden messages', () => {
    const res = renderError(new ValidationError([{ field: 'qty', message: 'Too small', expected: 'number' }]));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toEqual({
      type: 'urn:steadyfn:error:validation_failed',
      title: 'Bad Request',
      status: 400,
      code: 'VALIDATION_FAILED',
      detail: 'Input failed validation',
      errors: [{ field: 'qty', message: 'Too small', expected: 'number' }],
    });
    expect(renderError(new SteadyError('INTERNAL', 'secret detail', { status: 500 })).body).not.toContain('secret');
    expect(renderError(new SteadyError('IN_PROGRESS', 'busy', { status: 409, headers: { 'Retry-After': '1' } })).headers['Retry-After']).toBe('1');
  });

  it('drops headers it cannot send and maps an impossible status to 500', () => {
    const res = renderError(new SteadyError('ODD', 'odd', { status: 999, headers: { 'x-bad': 'a\nb', 'x-ok': 'fine' } }));
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).status).toBe(500);
    expect(res.headers).toEqual({ 'content-type': 'application/problem+json', 'x-ok': 'fine' });
  });
});

describe('toRenderedResponse', () => {
  it('brands stored fields again, and refuses fields that cannot be sent', () => {
    const stored = JSON.parse(JSON.stringify(renderResult(httpResult({ status: 201, cookies: ['a=1'], body: 'x' }))));
    const res = toRenderedResponse(stored);
    expect(isHttpResponse(res)).toBe(true);
    expect(res).toMatchObject({ status: 201, cookies: ['a=1'], body: 'x' });
    expect(() => toRenderedResponse({ ...stored, headers: { 'x-a': 'b\nc' } })).toThrow(InvalidHttpResultError);
    expect(() => toRenderedResponse({ ...stored, status: 700 })).toThrow(InvalidHttpResultError);
  });
});
