/**
 * The Functions Framework conformance suite's Realtime Database CloudEvent
 * (GoogleCloudPlatform/functions-framework-conformance `events/generate/data/firebase-db1-cloudevent-input.json`,
 * unchanged in test/fixtures/samples/gcp/ffc-firebase-db1-cloudevent-input.json; see SOURCES.md there)
 * carries the type `google.firebase.database.document.v1.written`: the name the Java, .NET, PHP
 * and Ruby Functions Frameworks give a converted legacy `ref.write`, beside the
 * `google.firebase.database.ref.v1.*` names of Eventarc and the Node.js framework. Both name
 * the same Realtime Database change and must reach the function as one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve, serveBackground } from './support/gcp-server.js';
import { recorder, sample } from './support/published.js';

afterAll(closeServers);

describe('Realtime Database CloudEvent named google.firebase.database.document.v1.*', () => {
  it('firebase-db1-cloudevent-input.json: a change with the delta applied, through both entries and both signatures', async () => {
    const body = JSON.stringify(sample('gcp', 'ffc-firebase-db1-cloudevent-input.json'));
    for (const entry of ['root', 'gcp'] as const) {
      for (const signature of ['cloudEvent', 'event'] as const) {
        const { seen, fn } = recorder();
        const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : gcpHandler({ logSink: () => undefined }, fn);
        const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main);
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
        await res.arrayBuffer();
        const how = `${entry}/${signature}`;
        expect({ how, status: res.status }).toEqual({ how, status: 204 });
        expect({ how, input: seen[0]?.input }).toEqual({ how, input: { grandchild: 'other' } });
        expect(seen[0]!.ctx.trigger).toEqual({
          kind: 'change',
          source: 'firebase-rtdb',
          collection: 'gcf-test',
          op: 'insert',
          key: 'gcf-test/xyz',
          sequence: undefined,
          time: '2020-09-29T11:32:00.000Z',
          batchIndex: 0,
          batchSize: 1,
        });
        expect(seen[0]!.ctx.deliveryId).toBe('//firebasedatabase.googleapis.com/projects/_/instances/my-project-id#aaaaaa-1111-bbbb-2222-cccccccccccc');
      }
    }
  });
});
