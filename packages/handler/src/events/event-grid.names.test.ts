/**
 * Blob names in Event Grid Blob Storage events: the subject carries the name as it is, `data.url`
 * carries it percent-encoded. Shapes: the fixture after Microsoft's "Azure Blob Storage as an
 * Event Grid source" sample (test/fixtures/azure/SOURCES.md, "Blob names"), and a property over
 * any name built the same way.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventGridItems } from './event-grid.js';

type Json = Record<string, any>;
const sample = (JSON.parse(readFileSync(new URL('../../test/fixtures/azure/event-grid-blob-created.json', import.meta.url), 'utf8')) as Json).event as Json;

/** A BlobCreated event for `name` as Azure sends it: subject raw, url path percent-encoded. */
function blobEvent(name: string, changes: { subject?: string | null; url?: string | null } = {}): Json {
  const event = structuredClone(sample);
  const url = `https://steadydemo.blob.core.windows.net/photos/${name.split('/').map(encodeURIComponent).join('/')}`;
  event.subject = `/blobServices/default/containers/photos/blobs/${name}`;
  event.data.url = url;
  if (changes.subject === null) delete event.subject;
  else if (changes.subject !== undefined) event.subject = changes.subject;
  if (changes.url === null) delete event.data.url;
  else if (changes.url !== undefined) event.data.url = changes.url;
  return event;
}

function keyOf(event: Json): { bucket: string; key: string } {
  const [item] = eventGridItems(event, { body: 'auto' });
  const t = item!.trigger;
  if (t.kind !== 'storage') throw new Error(`not a storage item: ${t.kind}`);
  return { bucket: t.bucket, key: t.key };
}

// Names a user can give a blob that a percent-decoding of the subject would change or break.
const names = ['2025/summer photo (1).jpg', 'a+b.txt', 'literal%20not-a-space.txt', '100%.csv', 'café/résumé ü.pdf', 'tasklog_14💎.log', 'q?x#y.txt'];

describe('Event Grid blob names', () => {
  it('a name with dot segments, which no URL can carry, comes from the subject', () => {
    expect(keyOf(blobEvent('a/../b/./c.txt'))).toEqual({ bucket: 'photos', key: 'a/../b/./c.txt' });
  });

  it('the documented sample: subject and data.url name the same blob', () => {
    expect(sample.subject).toBe('/blobServices/default/containers/photos/blobs/2025/summer photo (1).jpg');
    expect(keyOf(structuredClone(sample))).toEqual({ bucket: 'photos', key: '2025/summer photo (1).jpg' });
    expect(keyOf(blobEvent('2025/summer photo (1).jpg', { url: null }))).toEqual({ bucket: 'photos', key: '2025/summer photo (1).jpg' });
  });

  it.each(names)('the subject is taken as it is, never percent-decoded: %s', (name) => {
    expect(keyOf(blobEvent(name, { url: null }))).toEqual({ bucket: 'photos', key: name });
    expect(keyOf(blobEvent(name))).toEqual({ bucket: 'photos', key: name });
  });

  it('the name is right whether or not data.url is percent-encoded (the docs show only ASCII names in it)', () => {
    for (const name of names) {
      const raw = `https://steadydemo.blob.core.windows.net/photos/${name}`;
      expect(keyOf(blobEvent(name, { url: raw })), name).toEqual({ bucket: 'photos', key: name });
    }
  });

  it('data.url is percent-decoded when the subject names no blob', () => {
    for (const name of names) expect(keyOf(blobEvent(name, { subject: '/somewhere/else' })), name).toEqual({ bucket: 'photos', key: name });
  });

  it('a subject the sender could not encode (U+FFFD) gives way to data.url', () => {
    const name = 'tasklog_14💎.log';
    expect(keyOf(blobEvent(name, { subject: '/blobServices/default/containers/photos/blobs/tasklog_14\uFFFD\uFFFD.log' }))).toEqual({ bucket: 'photos', key: name });
  });

  it('a url that is not valid percent-encoding and no subject is a typed MALFORMED_EVENT naming data.url', () => {
    const thrown = (() => {
      try {
        return keyOf(blobEvent('x', { subject: '/', url: 'https://steadydemo.blob.core.windows.net/photos/bad%E0%A4%A.txt' }));
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toMatchObject({ code: 'MALFORMED_EVENT', issues: [{ field: 'data.url' }] });
  });

  it('property: any blob name comes back exactly, from subject and url, from the subject alone, and from the url alone', () => {
    const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/'));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (parts) => {
        const name = parts.join('/');
        expect(keyOf(blobEvent(name)).key).toBe(name);
        expect(keyOf(blobEvent(name, { url: null })).key).toBe(name);
        // A URL cannot carry `.` or `..` segments (WHATWG URL removes them, `%2E` too): the subject can.
        if (!parts.some((p) => p === '.' || p === '..')) expect(keyOf(blobEvent(name, { subject: '/' })).key).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});
