/**
 * Cloud Storage, Firestore and Firebase Realtime Database CloudEvents through the real
 * Functions Framework (v5) test server, in binary and structured content modes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { closeServers, serve as serveAs } from '../../test/support/gcp-server.js';
import request from 'supertest';
import { handler, type Context } from '../index.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/gcp/${name}`, import.meta.url), 'utf8')) as Json;
afterAll(closeServers);

/** Binary content mode: attributes as ce-* headers, data as the body under its content type. */
function binaryHeaders(ce: Json, contentType = 'application/json'): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': contentType };
  for (const [k, v] of Object.entries(ce)) if (k !== 'data' && k !== 'datacontenttype') headers[`ce-${k}`] = String(v);
  return headers;
}

function recorder() {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return { seen, fn: (input: unknown, ctx: Context) => void seen.push({ input, ctx }) };
}

describe('Cloud Storage CloudEvents', () => {
  it('reads finalized and deleted objects as storage triggers, in both content modes', async () => {
    const { seen, fn } = recorder();
    const url = await serveAs('cloudEvent', handler({}, fn));
    const created = fixture('storage-photo-finalized.json');
    const deleted = fixture('storage-object-deleted.json');
    expect((await request(url).post('/').set(binaryHeaders(created)).send(created.data)).status).toBe(204);
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(deleted))).status).toBe(204);
    expect(seen[0]!.input).toEqual({
      op: 'created',
      bucket: 'photos',
      key: '2025/summer photo (1).jpg',
      size: 48213,
      etag: 'CLHs4MXvlYwDEAE=',
      contentType: 'image/jpeg',
      versionId: '1741946531204913',
      time: '2025-03-14T10:02:11.204Z',
    });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'created', eventType: 'google.cloud.storage.object.v1.finalized' });
    expect(seen[0]!.ctx.deliveryId).toBe('//storage.googleapis.com/projects/_/buckets/photos#9182736455647400');
    expect(seen[1]!.input).toMatchObject({ op: 'deleted', bucket: 'photos', key: '2025/old report+1.pdf', size: 1024 });
  });
});

describe('Firestore CloudEvents', () => {
  it('decodes a JSON-encoded document write to plain values, with the before image', async () => {
    const { seen, fn } = recorder();
    const url = await serveAs('cloudEvent', handler({}, fn));
    const written = fixture('firestore-document-written.json');
    expect((await request(url).post('/').set(binaryHeaders(written)).send(written.data)).status).toBe(204);
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(written))).status).toBe(204);
    for (const { input, ctx } of seen) {
      expect(input).toEqual({
        orderId: 'o-42',
        status: 'shipped',
        total: 19.99,
        qty: 2,
        big: '12345678901234567890',
        shippedAt: '2025-03-14T10:02:11.204Z',
        where: { latitude: 59.91, longitude: 10.75 },
        items: [{ sku: 'sku-1' }],
        note: null,
        paid: true,
        thumb: Buffer.from([0xff, 0xfe, 0x00, 0x80]),
      });
      expect(ctx.trigger).toEqual({
        kind: 'change',
        source: 'firestore',
        collection: 'orders',
        op: 'update',
        key: 'orders/o-42',
        sequence: undefined,
        before: { orderId: 'o-42', status: 'placed', total: 19.99, qty: 2 },
        time: '2025-03-14T10:02:11.204Z',
        encoding: 'json',
        batchIndex: 0,
        batchSize: 1,
      });
      expect(ctx.deliveryId).toBe('//firestore.googleapis.com/projects/steady-demo/databases/(default)#b3a6c9d2-1e4f-4a7b-9c0d-2e5f8a1b4c7d');
    }
    expect(seen).toHaveLength(2);
  });

  it('hands protobuf-encoded data over as the exact bytes, marked encoding protobuf', async () => {
    const { seen, fn } = recorder();
    const url = await serveAs('cloudEvent', handler({}, fn));
    const written = { ...fixture('firestore-document-written.json'), type: 'google.cloud.firestore.document.v1.created' };
    // A DocumentEventData message: field 1 (value) = a Document with name "d" (bytes are what matters here).
    const proto = Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x64, 0xff, 0x80]);
    const res = await request(url).post('/').set(binaryHeaders(written, 'application/protobuf')).send(proto);
    expect(res.status).toBe(204);
    expect(Buffer.isBuffer(seen[0]!.input) && (seen[0]!.input as Buffer).equals(proto)).toBe(true);
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', op: 'insert', key: 'orders/o-42', encoding: 'protobuf' });
  });
});

describe('Firebase Realtime Database CloudEvents', () => {
  it('applies the delta to the data: the after value as input, the before value in the trigger', async () => {
    const { seen, fn } = recorder();
    const url = await serveAs('cloudEvent', handler({}, fn));
    const written = fixture('rtdb-ref-written.json');
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(written))).status).toBe(204);
    expect(seen[0]!.input).toEqual({ orderId: 'o-42', status: 'shipped', total: 19.99 });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firebase-rtdb', op: 'update', key: 'orders/o-42', collection: 'orders', before: { status: 'placed' } });
  });
});
