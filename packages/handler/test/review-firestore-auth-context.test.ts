/**
 * Review finding (s51 LOW): a Firestore `google.cloud.firestore.document.v1.written.withAuthContext`
 * event says who made the change in its `authtype` and `authid` extension attributes (Firebase
 * docs "Cloud Firestore triggers", auth context: `authtype` one of `app_user`, `admin`,
 * `unauthenticated`, `service_account`, `api_key`, `system`, `unknown`), but the change trigger
 * dropped them. Pushed in binary content mode to the real Functions Framework.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve } from './support/gcp-server.js';
import { recorder } from './support/published.js';

afterAll(closeServers);

const document = { name: 'projects/p/databases/(default)/documents/orders/o-1', fields: { status: { stringValue: 'paid' } } };

async function push(type: string, extra: Record<string, string>) {
  const triggers = [];
  for (const entry of ['root', 'gcp'] as const) {
    const { seen, fn } = recorder();
    const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : gcpHandler({ logSink: () => undefined }, fn);
    const url = await serve('cloudEvent', main);
    const headers = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': type,
      'ce-source': '//firestore.googleapis.com/projects/p/databases/(default)',
      'ce-id': `fs-auth-${entry}`,
      'ce-time': '2025-03-14T12:00:00Z',
      'ce-subject': 'documents/orders/o-1',
      ...extra,
    };
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ value: document }) });
    await res.arrayBuffer();
    expect({ entry, status: res.status }).toEqual({ entry, status: 204 });
    expect(seen[0]!.input).toEqual({ status: 'paid' });
    triggers.push(seen[0]!.ctx.trigger);
  }
  return triggers;
}

describe('Firestore withAuthContext: authtype / authid on the change trigger', () => {
  it('a service account write: auth { type, id }', async () => {
    for (const trigger of await push('google.cloud.firestore.document.v1.written.withAuthContext', { 'ce-authtype': 'service_account', 'ce-authid': 'sa@p.iam.gserviceaccount.com' })) {
      expect(trigger).toMatchObject({ kind: 'change', source: 'firestore', op: 'insert', key: 'orders/o-1', auth: { type: 'service_account', id: 'sa@p.iam.gserviceaccount.com' } });
    }
  });

  it('an unauthenticated write (no authid): auth { type } alone', async () => {
    for (const trigger of await push('google.cloud.firestore.document.v1.created.withAuthContext', { 'ce-authtype': 'unauthenticated' })) {
      expect(trigger).toMatchObject({ auth: { type: 'unauthenticated' } });
      expect((trigger as { auth: object }).auth).not.toHaveProperty('id');
    }
  });

  it('an event type without .withAuthContext has no auth, even with the attributes', async () => {
    for (const trigger of await push('google.cloud.firestore.document.v1.written', { 'ce-authtype': 'admin', 'ce-authid': 'x' })) {
      expect(trigger).not.toHaveProperty('auth');
    }
  });
});
