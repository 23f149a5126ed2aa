/**
 * fx2 D2: the probe's second write (`If-None-Match: *` on the object its first write just
 * created) went through the header check, so a server that accepted the header on the first
 * PUT and answered the second with 400 `InvalidArgument` naming If-None-Match (its way of
 * refusing the condition) was kept as `LEASE_STORE_UNSUPPORTED` for the process. The first PUT
 * proves the header is accepted: the second one's 400 is the condition's refusal (as any 4xx
 * was before), and the probe goes on. The server is a tiny local HTTP server that only stands
 * for that answer's shape (a fake, not an S3 server): it honours If-Match with 412.
 */
import { describe, expect, it } from 'vitest';
import { s3LeaseStore } from '../src/s3.js';
import { useFakeS3Endpoint } from './support/fake-s3-endpoint.js';

const REFUSAL = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>If-None-Match: the object exists</Message></Error>';
const ETAG = '"0123456789abcdef0123456789abcdef"';

describe('s3LeaseStore probe on a server answering If-None-Match on an existing object with 400 naming the header', () => {
  const seen: string[] = [];
  const objects = new Set<string>();
  const endpoint = useFakeS3Endpoint((req, res) => {
    const url = req.url ?? '';
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    seen.push(`${req.method} ${ifNoneMatch ? 'if-none-match' : ifMatch ? 'if-match' : '-'}`);
    if (req.method === 'PUT' && ifNoneMatch !== undefined && objects.has(url)) res.writeHead(400, { 'content-type': 'application/xml' }).end(REFUSAL);
    else if (req.method === 'PUT' && ifMatch !== undefined && ifMatch !== ETAG) res.writeHead(412, { 'content-type': 'application/xml' }).end('<Error><Code>PreconditionFailed</Code></Error>');
    else if (req.method === 'PUT') {
      objects.add(url);
      res.writeHead(200, { etag: ETAG }).end();
    } else res.writeHead(204).end();
  });

  it('reads the second PUT\'s 400 as the condition refused: the probe passes, not LEASE_STORE_UNSUPPORTED', async () => {
    const store = s3LeaseStore({ client: endpoint.client(), bucket: 'second-write' });
    await expect(store.probe()).resolves.toEqual({ conditionalWrites: true });
    expect(seen).toEqual(['PUT if-none-match', 'PUT if-none-match', 'PUT if-match', 'PUT if-match', 'DELETE -']);
  });
});
