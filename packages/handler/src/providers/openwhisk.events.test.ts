/**
 * The OpenWhisk adapter with the Cloudant / CouchDB changes feed (the params the
 * `/whisk.system/cloudant/changes` feed fires a trigger with), and the web-action statuses
 * the controller can and cannot send.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler, httpResult, TerminalError, type Context } from '../index.js';
import { controllerHttp } from '../../test/fixtures/openwhisk/controller.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/openwhisk/${name}`, import.meta.url), 'utf8')) as Json;

function recorder(result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return { seen, fn: (input: unknown, ctx: Context) => (seen.push({ input, ctx }), result(input, ctx)) };
}

describe('Cloudant / CouchDB changes feed', () => {
  it('runs a change with its document as a change trigger', async () => {
    const { seen, fn } = recorder(() => ({ indexed: true }));
    const params = fixture('cloudant-change.json');
    expect(await handler({}, fn).openwhisk(params)).toEqual({ indexed: true });
    expect(seen[0]!.input).toEqual(params.doc);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'change', source: 'couchdb', collection: 'orders', op: 'update', key: 'o-42', sequence: params.seq, batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('orders/o-42@2-7051cbe5c8faecd085a3fa619e6e6337');
  });

  it('tells inserts (first revision) and deletes, and gives id and rev when the feed sends no document', async () => {
    const { seen, fn } = recorder();
    const main = handler({}, fn);
    await main.openwhisk(fixture('cloudant-change-bare.json'));
    await main.openwhisk(fixture('cloudant-change-deleted.json'));
    expect(seen.map((s) => (s.ctx.trigger.kind === 'change' ? s.ctx.trigger.op : ''))).toEqual(['insert', 'delete']);
    expect(seen[0]!.input).toEqual({ _id: 'o-43', _rev: '1-967a00dff5e02add41819138abb3284d' });
    expect(seen[1]!.input).toEqual({ _id: 'o-44', _rev: '3-825cb35de44c433bfb2df415563a19de', _deleted: true });
  });

  it('returns a failure as { error } (never throws), and an acknowledged terminal failure as {}', async () => {
    const fail = () => {
      throw new TerminalError('BAD_DOC', 'Not an order');
    };
    expect(await handler({}, fail).openwhisk(fixture('cloudant-change.json'))).toMatchObject({ error: { code: 'BAD_DOC', retryable: false } });
    expect(await handler({ terminalErrors: 'ack' }, fail).openwhisk(fixture('cloudant-change.json'))).toEqual({});
  });
});

describe('web action statuses', () => {
  const web = { __ow_method: 'get', __ow_headers: {}, __ow_path: '' };

  it.each([299, 306, 499, 520])('maps status %i, which the controller refuses, to 500 INVALID_HTTP_RESULT', async (status) => {
    const result = (await handler({}, () => httpResult({ status, body: { ok: true } })).openwhisk(web)) as Json;
    expect(result.error).toMatchObject({ statusCode: 500, headers: { 'content-type': 'application/problem+json' } });
    expect(result.error.body.code).toBe('INVALID_HTTP_RESULT');
    expect(controllerHttp(result).status).toBe(500);
  });

  it.each([203, 226, 418, 451, 599])('keeps status %i, which the controller knows', async (status) => {
    const result = (await handler({}, () => httpResult({ status, body: 'x' })).openwhisk(web)) as Json;
    const answer = status >= 500 ? result.error : result;
    expect(answer.statusCode).toBe(status);
  });

  it('reads a decimal string status as the controller does', async () => {
    const result = (await handler({}, () => httpResult({ status: '201' as unknown as number, body: { ok: true } })).openwhisk(web)) as Json;
    expect(result.statusCode).toBe(201);
  });
});
