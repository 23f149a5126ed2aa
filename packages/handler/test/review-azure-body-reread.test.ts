/**
 * Azure/azure-functions-nodejs-library#79 ("req.json is returning Body is unusable") and #207
 * ("How to reference HttpRequest body in hooks"): the v4 `HttpRequest` body is a fetch-style
 * stream that can be read once. The adapter read it off the request itself, so the function
 * could not read it again through `ctx.raw` (`formData()` of a multipart upload failed with
 * "Body is unusable", a 500 INTERNAL); and a request whose body a `preInvocation` hook had
 * already read was answered 400 MALFORMED_EVENT — the client blamed for the app's hook.
 */
import { HttpRequest, trigger } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as azureHandler } from '../src/azure.js';
import { invocationContext } from './support/azure.js';
import { logs, type Json } from './support/published.js';

const context = () => invocationContext({ invocationId: 'b0d7-0001', functionName: 'upload', triggerMetadata: {} }, trigger.http({ methods: ['POST'], authLevel: 'anonymous' }));
const MULTIPART = '--xx\r\nContent-Disposition: form-data; name="title"\r\n\r\nreport\r\n--xx\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xx--\r\n';
const upload = () =>
  new HttpRequest({ method: 'POST', url: 'https://files.azurewebsites.net/api/upload', headers: { 'content-type': 'multipart/form-data; boundary=xx' }, body: { string: MULTIPART } });

describe.each([
  ['root', handler],
  ['azure', azureHandler],
] as const)('Azure HTTP request bodies read twice (%s entry)', (_entry, make) => {
  it('nodejs-library#79: the function still reads the body through ctx.raw (formData of a multipart upload) after the adapter read it', async () => {
    const main = make({ logSink: () => undefined }, async (input, ctx) => {
      const form = await (ctx.raw as { trigger: HttpRequest }).trigger.formData();
      const file = form.get('file') as File;
      return { bytes: Buffer.isBuffer(input) ? input.length : -1, title: form.get('title'), file: await file.text() };
    });
    const res = (await main(upload(), context())) as Json;
    expect(res.status).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({ bytes: Buffer.byteLength(MULTIPART), title: 'report', file: 'hello' });
  });

  it('nodejs-library#207: a body a preInvocation hook already read is a 500 AZURE_BODY_USED configuration error naming request.body, logged, and the function does not run', async () => {
    const { lines, logSink } = logs();
    let ran = false;
    const main = make({ logSink }, () => (ran = true));
    const req = new HttpRequest({ method: 'POST', url: 'https://files.azurewebsites.net/api/orders', headers: { 'content-type': 'application/json' }, body: { string: '{"sku":"a-1"}' } });
    await req.json(); // what a validating preInvocation hook does
    const res = (await main(req, context())) as Json;
    expect(ran).toBe(false);
    expect(res.status).toBe(500);
    // Configuration errors are not exposed: the client sees the code only.
    expect(JSON.parse(String(res.body))).toMatchObject({ code: 'AZURE_BODY_USED' });
    const line = lines.find((l) => l.code === 'AZURE_BODY_USED');
    expect(line).toMatchObject({ level: 'error', provider: 'azure', requestId: 'b0d7-0001', issues: [{ field: 'request.body' }] });
    expect(JSON.stringify(lines)).not.toContain('a-1');
  });

  it('a body a hook locked (took a reader of) without reading is AZURE_BODY_USED too, not the client\'s 400', async () => {
    let ran = false;
    const main = make({ logSink: () => undefined }, () => (ran = true));
    const req = new HttpRequest({ method: 'POST', url: 'https://files.azurewebsites.net/api/orders', headers: { 'content-type': 'application/json' }, body: { string: '{"sku":"a-1"}' } });
    req.body!.getReader();
    const res = (await main(req, context())) as Json;
    expect(ran).toBe(false);
    expect(res.status).toBe(500);
    expect(JSON.parse(String(res.body))).toMatchObject({ code: 'AZURE_BODY_USED' });
  });
});
