/**
 * A fault-injecting HTTP proxy in front of a real SQS server, for the answers no emulator gives
 * on demand: throttling, 5xx and per-entry server faults (`SenderFault: false`). Requests are
 * forwarded unchanged except for the `SendMessageBatch` calls a rule picks; what reaches the
 * server and what it answers is real.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface BatchEntry {
  Id: string;
  MessageBody: string;
}

/** What to do with one `SendMessageBatch` call (its 1-based number among such calls). */
export type FaultRule = (call: number, entries: BatchEntry[]) =>
  | undefined
  /** Answer the whole call with this HTTP status and error type, without forwarding it. */
  | { status: number; type: string }
  /** Forward without these entries and report them in `Failed` with `code`: server faults, or sender faults with `senderFault`. */
  | { failEntries: string[]; code: string; senderFault?: boolean }
  /** Forward without these entries and report each in `Failed` with its own code: server and sender faults in one call. */
  | { failEach: Array<{ id: string; code: string; senderFault: boolean }> };

export interface FaultProxy {
  endpoint: string;
  /** `SendMessageBatch` calls seen. */
  calls: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFaultProxy(target: string, rule: FaultRule): Promise<FaultProxy> {
  const upstream = new URL(target);
  const state = { calls: 0 };
  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) } as unknown as Record<string, string>;
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (res) => {
        void readBody(res).then((b) => resolve({ status: res.statusCode ?? 500, headers: res.headers as Record<string, string>, body: b }), reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      let body = await readBody(req);
      const isBatch = String(req.headers['x-amz-target'] ?? '').endsWith('.SendMessageBatch');
      let injected: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
      if (isBatch) {
        state.calls++;
        const json = JSON.parse(body.toString('utf8')) as { Entries: BatchEntry[] };
        const decision = rule(state.calls, json.Entries);
        if (decision && 'status' in decision) {
          const payload = JSON.stringify({ __type: `com.amazonaws.sqs#${decision.type}`, message: 'injected by the fault proxy' });
          res.writeHead(decision.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${decision.type};Receiver` });
          return res.end(payload);
        }
        const each = decision && 'failEntries' in decision ? decision.failEntries.map((id) => ({ id, code: decision.code, senderFault: decision.senderFault === true })) : decision && 'failEach' in decision ? decision.failEach : undefined;
        if (each) {
          const drop = new Set(each.map((f) => f.id));
          json.Entries = json.Entries.filter((e) => !drop.has(e.Id));
          injected = each.map((f) => ({ Id: f.id, SenderFault: f.senderFault, Code: f.code, Message: 'injected by the fault proxy' }));
          if (json.Entries.length === 0) {
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
            return res.end(JSON.stringify({ Successful: [], Failed: injected }));
          }
          body = Buffer.from(JSON.stringify(json), 'utf8');
        }
      }
      const answer = await forward(req, body);
      let out = answer.body;
      if (injected.length > 0 && answer.status === 200) {
        const parsed = JSON.parse(out.toString('utf8')) as { Successful?: unknown[]; Failed?: unknown[] };
        parsed.Failed = [...(parsed.Failed ?? []), ...injected];
        out = Buffer.from(JSON.stringify(parsed), 'utf8');
      }
      const headers: Record<string, string> = { ...answer.headers, 'content-length': String(out.length) };
      delete headers['transfer-encoding'];
      res.writeHead(answer.status, headers);
      res.end(out);
    })().catch(() => {
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
