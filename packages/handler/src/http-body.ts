/**
 * Reading an HTTP request body's bytes as text, by concern: the charset its `Content-Type`
 * declares and the text its bytes are in it (http-body-charset.ts), the fields of a form
 * percent-decoded in its charset (http-body-form.ts), and whether a `Content-Encoding` still
 * applies to the bytes (http-body-coding.ts). `httpInput` (http.ts) decides what the function
 * receives from these answers.
 */
export { charsetBytesLost, checkOneCharset, declaredCharset, decodeStrict, sniffBom, textInCharset, type DeclaredCharset } from './http-body-charset.js';
export { formFieldsIn } from './http-body-form.js';
export { codedBodyLost, codingLikelyLeft, contentCodings, stillContentCoded } from './http-body-coding.js';
