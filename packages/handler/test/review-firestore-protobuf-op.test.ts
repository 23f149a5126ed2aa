/**
 * Firestore triggers deliver `DocumentEventData` as protobuf by default (`datacontenttype:
 * application/protobuf`). The published samples (googleapis/google-cloudevents
 * `examples/binary/firestore/DocumentEventData-simple.json` and `-complex.json`, unchanged in
 * test/fixtures/samples/gcp; see SOURCES.md there) are encoded here as Firestore sends them
 * (test/support/firestore-proto.ts) and pushed in binary content mode to the real Functions
 * Framework. For a `written` event the data is what tells a create from an update or a delete
 * ("value … not populated for delete events", "old_value … only populated for update and
 * delete events": google-cloudevents `proto/google/events/cloud/firestore/v1/data.proto`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';
import { documentEventDataProto } from './support/firestore-proto.js';
import { recorder, sample, type Json } from './support/published.js';

afterAll(closeServers);

async function push(data: Json, id: string) {
  const bytes = documentEventDataProto(data);
  const runs = [];
  for (const entry of ['root', 'gcp'] as const) {
    const { seen, fn } = recorder();
    const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : gcpHandler({ logSink: () => undefined }, fn);
    const url = await serve('cloudEvent', main);
    const headers = {
      'content-type': 'application/protobuf',
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.firestore.document.v1.written',
      'ce-source': '//firestore.googleapis.com/projects/project-id/databases/(default)',
      'ce-id': id,
      'ce-time': '2020-04-23T12:00:27.247187Z',
      'ce-subject': 'documents/gcf-test/2Vm2mI1d0wIaK2Waj5to',
    };
    const res = await fetch(url, { method: 'POST', headers, body: bytes });
    await res.arrayBuffer();
    expect({ entry, status: res.status }).toEqual({ entry, status: 204 });
    expect(Buffer.isBuffer(seen[0]!.input) && (seen[0]!.input as Buffer).equals(bytes)).toBe(true);
    runs.push(seen[0]!.ctx.trigger);
  }
  return runs;
}

describe('Firestore written event, protobuf data: op from the documents the data carries', () => {
  it('DocumentEventData-simple.json (value and old_value): an update', async () => {
    for (const trigger of await push(sample('gcp', 'firestore-document-simple.json'), 'fs-pb-simple')) {
      expect(trigger).toMatchObject({ kind: 'change', source: 'firestore', op: 'update', key: 'gcf-test/2Vm2mI1d0wIaK2Waj5to', encoding: 'protobuf' });
    }
  });

  it('DocumentEventData-complex.json (value, an empty old_value): an insert', async () => {
    for (const trigger of await push(sample('gcp', 'firestore-document-complex.json'), 'fs-pb-complex')) {
      expect(trigger).toMatchObject({ kind: 'change', source: 'firestore', op: 'insert', encoding: 'protobuf' });
    }
  });

  it('the simple sample as a delete sends it (old_value only, no value): a delete', async () => {
    const { value: _after, updateMask: _mask, ...deleted } = sample('gcp', 'firestore-document-simple.json');
    for (const trigger of await push(deleted, 'fs-pb-deleted')) {
      expect(trigger).toMatchObject({ kind: 'change', source: 'firestore', op: 'delete', encoding: 'protobuf' });
    }
  });
});
