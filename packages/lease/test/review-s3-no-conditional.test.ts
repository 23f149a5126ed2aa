/**
 * rvl D7: an S3-compatible server that refuses conditional PUTs outright — 501 `NotImplemented`,
 * or 400 naming the header — reached every call as the SDK's raw error, and the probe ran
 * again each call (only `LeaseStoreUnsupportedError` is kept). Both are now
 * `LeaseStoreUnsupportedError` (`LEASE_STORE_UNSUPPORTED`), kept: one probe PUT however many calls.
 * The server is a tiny local HTTP server that only stands for the refusal's shape (a fake, not
 * an S3 server): it answers a PUT carrying If-None-Match or If-Match with the refusal, anything
 * else with 204.
 */
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnsupportedError } from '../src/index.js';
import { s3LeaseStore } from '../src/s3.js';
import { useFakeS3Endpoint } from './support/fake-s3-endpoint.js';

const xml = (code: string, message: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

const REFUSALS = [
  ['501 NotImplemented', 501, xml('NotImplemented', 'A header you provided implies functionality that is not implemented')],
  ['400 naming the header', 400, xml('InvalidArgument', 'If-None-Match is not supported')],
] as const;

describe.each(REFUSALS)('s3LeaseStore on a server refusing conditional PUTs with %s', (_name, status, body) => {
  let conditionalPuts = 0;
  const endpoint = useFakeS3Endpoint((req, res) => {
    if (req.method === 'PUT' && (req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined)) {
      conditionalPuts++;
      res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
    } else res.writeHead(204).end();
  });

  it('every call is LEASE_STORE_UNSUPPORTED (if-none-match) and the refusal is kept: one probe PUT', async () => {
    const store = s3LeaseStore({ client: endpoint.client(), bucket: 'refusing' });
    for (const call of [() => store.claim({ key: 'k', owner: 'o', leaseMs: 1000 }), () => store.get('k'), () => store.probe()]) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseStoreUnsupportedError);
      expect(error).toMatchObject({ code: 'LEASE_STORE_UNSUPPORTED', check: 'if-none-match', field: 'store' });
      expect((error as Error).message).toContain(`HTTP ${status}`);
    }
    expect(conditionalPuts).toBe(1);
  });
});
