/**
 * S3 sources when the response has no Content-Length (`Transfer-Encoding: chunked`, as a proxy
 * or a gateway may answer): the real SDK against moto through a small HTTP proxy that drops
 * Content-Length and sends the body in chunks. The size limit and the SDK's response checksum
 * must hold without the header.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { SourceError } from '../src/errors.js';
import { s3Json, s3Object } from '../src/s3.js';
import { createBucket, dropBucket, s3Client, unique, type S3RequestLog } from './support.js';

interface ChunkingProxy {
  endpoint: string;
  /** Headers of the last response the proxy passed on (as the client got them). */
  lastHeaders(): IncomingHttpHeaders | undefined;
  /** Body bytes the proxy passed on in its last response, and whether it sent them all. */
  lastSent(): { bytes: number; complete: boolean } | undefined;
  /** Flip one byte of the next response body (its length unchanged). */
  corruptNext(): void;
  close(): Promise<void>;
}

/** An HTTP proxy to `target` that answers without Content-Length, the body in 1 KiB chunks. */
async function chunkingProxy(target: string): Promise<ChunkingProxy> {
  const to = new URL(target);
  let last: IncomingHttpHeaders | undefined;
  let lastSent: { bytes: number; complete: boolean } | undefined;
  let corrupt = false;
  const server: Server = createServer((req, res) => {
    lastSent = undefined;
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const headers = { ...answer.headers };
      delete headers['content-length'];
      res.writeHead(answer.statusCode ?? 502, headers);
      let flip = corrupt && req.method === 'GET';
      if (flip) corrupt = false;
      let sent = 0;
      // Streamed with backpressure, 1 KiB at a time: what the client does not read is never sent.
      answer.on('data', (c: Buffer) => {
        const chunk = Buffer.from(c);
        if (flip && chunk.length > 20) {
          chunk[20] = chunk[20]! ^ 0x01; // inside a JSON string: still valid JSON
          flip = false;
        }
        let ok = true;
        for (let i = 0; i < chunk.length; i += 1024) ok = res.write(chunk.subarray(i, i + 1024)) && ok;
        sent += chunk.length;
        if (!ok) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => res.end());
      res.on('close', () => {
        lastSent = { bytes: sent, complete: res.writableFinished };
        answer.destroy();
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  // What the client receives, read from the proxy's own side of the socket.
  server.on('request', (_req, res) => res.on('finish', () => (last = res.getHeaders() as IncomingHttpHeaders)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lastHeaders: () => last,
    lastSent: () => lastSent,
    corruptNext: () => void (corrupt = true),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let direct: S3RequestLog;
let viaProxy: S3RequestLog;
let proxy: ChunkingProxy;
const bucket = unique('s3-chunked');
const signal = () => new AbortController().signal;

beforeAll(async () => {
  await requireService('s3');
  direct = s3Client();
  await createBucket(direct.client, bucket);
  proxy = await chunkingProxy(process.env.S3_ENDPOINT!);
  viaProxy = s3Client(proxy.endpoint);
});

afterAll(async () => {
  await proxy?.close();
  if (direct) await dropBucket(direct.client, bucket).catch(() => undefined);
});

async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const put = (key: string, body: string) => direct.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

describe('S3 source, response without Content-Length (chunked)', () => {
  it('loads a normal body, and the response really had no Content-Length', async () => {
    const key = unique('ok.json');
    const doc = { items: Array.from({ length: 300 }, (_, i) => ({ i, name: `item ${i} ü` })) };
    await put(key, JSON.stringify(doc));
    const loaded = await s3Json({ client: viaProxy.client, bucket, key }).load(signal());
    expect(loaded.value).toEqual(doc);
    const headers = proxy.lastHeaders();
    expect(headers?.['content-length']).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeGreaterThan(1024); // more than one chunk
  });

  it('refuses a body over maxBytes with the typed SourceError, and one at exactly maxBytes loads', async () => {
    const key = unique('big.json');
    const text = JSON.stringify({ pad: 'x'.repeat(5_000) });
    await put(key, text);
    const size = Buffer.byteLength(text);
    const error = await s3Json({ client: viaProxy.client, bucket, key, maxBytes: size - 1 }).load(signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(`object is larger than maxBytes (${size - 1})`);
    expect(proxy.lastHeaders()?.['content-length']).toBeUndefined();
    await expect(s3Json({ client: viaProxy.client, bucket, key, maxBytes: size }).load(signal())).resolves.toMatchObject({ value: { pad: 'x'.repeat(5_000) } });
  });

  it('stops reading a body over maxBytes: the rest is never transferred, decode never runs', async () => {
    const key = unique('big.txt');
    const size = 32 * 1024 * 1024;
    await put(key, 'y'.repeat(size));
    let decoded = 0;
    const source = s3Object({ client: viaProxy.client, bucket, key, maxBytes: 64 * 1024, decode: (t) => (decoded++, t) });
    await expect(source.load(signal())).rejects.toThrow(new SourceError(`object is larger than maxBytes (${64 * 1024})`));
    expect(decoded).toBe(0);
    await waitFor(() => proxy.lastSent() !== undefined);
    // The client destroyed the stream: the proxy could not send it all (socket buffers hold a few MiB at most).
    expect(proxy.lastSent()).toMatchObject({ complete: false });
    expect(proxy.lastSent()!.bytes).toBeLessThan(size);
  });

  it("a body changed on the way is refused by the SDK's response checksum, never loaded as a value", async () => {
    const key = unique('flip.json');
    await put(key, JSON.stringify({ n: 12345, s: 'a'.repeat(3000) }));
    // The SDK sends a checksum with the upload and moto keeps it: the GET is validated against it.
    const head = await direct.client.send(new (await import('@aws-sdk/client-s3')).HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    const hasChecksum = Boolean(head.ChecksumCRC32 ?? head.ChecksumCRC32C ?? head.ChecksumSHA1 ?? head.ChecksumSHA256 ?? head.ChecksumCRC64NVME);
    proxy.corruptNext();
    const outcome = await s3Json({ client: viaProxy.client, bucket, key }).load(signal()).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    expect(hasChecksum).toBe(true);
    expect(outcome.ok).toBe(false);
    expect(String((outcome as { e: Error }).e?.message)).toMatch(/checksum/i);
  });
});
