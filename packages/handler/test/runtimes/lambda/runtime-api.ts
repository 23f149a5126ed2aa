/**
 * A small Lambda Runtime API (the HTTP interface Lambda offers a runtime, 2018-06-01) on
 * 127.0.0.1, enough for the real Node runtime interface client to run a function:
 *
 *   GET  /2018-06-01/runtime/invocation/next           → the next event, with its headers
 *   POST /2018-06-01/runtime/invocation/{id}/response  → the function's result
 *   POST /2018-06-01/runtime/invocation/{id}/error     → the function's error
 *   POST /2018-06-01/runtime/init/error                → the module failed to load
 *
 * `invoke(event)` queues an event and resolves with what the runtime posted back.
 *
 * A response over 6291556 bytes is refused as Lambda's Runtime API refuses it — 413
 * `{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}`
 * (the 6 MB synchronous response payload of the Lambda quotas) — and the invocation resolves
 * with outcome `refused`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const PREFIX = '/2018-06-01/runtime';

/** The largest response body the Runtime API accepts, in bytes. */
export const RESPONSE_LIMIT_BYTES = 6_291_556;

export interface InvocationResult {
  requestId: string;
  /** Which endpoint the runtime posted to; `refused`: a response over the payload limit (413). */
  outcome: 'response' | 'error' | 'refused';
  /** The posted body, parsed as JSON. */
  body: any;
  headers: IncomingHttpHeaders;
}

export interface InvokeOptions {
  requestId?: string;
  /** Epoch ms sent as Lambda-Runtime-Deadline-Ms; default 30 s from now. */
  deadlineMs?: number;
  /** Give up waiting for the runtime after this long (the test fails instead of hanging). */
  waitMs?: number;
}

interface Queued {
  requestId: string;
  event: unknown;
  deadlineMs: number;
}

interface Waiter {
  resolve(result: InvocationResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RuntimeApi {
  readonly functionArn = 'arn:aws:lambda:eu-west-1:123456789012:function:orders-fn';
  /** Bodies posted to /init/error. */
  readonly initErrors: unknown[] = [];
  /** How many times the runtime asked for the next event. */
  nextRequests = 0;
  private readonly server: Server;
  private readonly queue: Queued[] = [];
  private readonly parked: ServerResponse[] = [];
  private readonly waiters = new Map<string, Waiter>();

  constructor() {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errorMessage: String(error) }));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  invoke(event: unknown, options: InvokeOptions = {}): Promise<InvocationResult> {
    const requestId = options.requestId ?? randomUUID();
    const deadlineMs = options.deadlineMs ?? Date.now() + 30_000;
    const result = new Promise<InvocationResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new Error(`the runtime did not answer invocation ${requestId} in ${options.waitMs ?? 15_000} ms`));
      }, options.waitMs ?? 15_000);
      this.waiters.set(requestId, { resolve, reject, timer });
    });
    this.queue.push({ requestId, event, deadlineMs });
    this.dispatch();
    return result;
  }

  /** Fails every invocation still waiting (the runtime process died). */
  abandon(reason: string): void {
    for (const [id, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`invocation ${id} abandoned: ${reason}`));
    }
    this.waiters.clear();
  }

  async close(): Promise<void> {
    this.abandon('the Runtime API closed');
    for (const res of this.parked.splice(0)) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.parked.length > 0) {
      const res = this.parked.shift()!;
      if (res.destroyed) continue;
      const next = this.queue.shift()!;
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': next.requestId,
        'lambda-runtime-deadline-ms': String(next.deadlineMs),
        'lambda-runtime-invoked-function-arn': this.functionArn,
        'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Parent=53995c3f42cd8ad8;Sampled=0`,
      });
      res.end(JSON.stringify(next.event));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      this.nextRequests++;
      this.parked.push(res);
      this.dispatch();
      return;
    }
    const body = await readBody(req);
    const invocation = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && invocation) {
      const requestId = decodeURIComponent(invocation[1]!);
      const waiter = this.waiters.get(requestId);
      if (!waiter) return answer(res, 400, { errorMessage: `unknown request id ${requestId}`, errorType: 'InvalidRequestID' });
      this.waiters.delete(requestId);
      clearTimeout(waiter.timer);
      if (invocation[2] === 'response' && Buffer.byteLength(body) > RESPONSE_LIMIT_BYTES) {
        const refusal = { errorMessage: `Exceeded maximum allowed payload size (${RESPONSE_LIMIT_BYTES} bytes).`, errorType: 'RequestEntityTooLarge' };
        waiter.resolve({ requestId, outcome: 'refused', body: refusal, headers: req.headers });
        return answer(res, 413, refusal);
      }
      waiter.resolve({ requestId, outcome: invocation[2] as 'response' | 'error', body: parse(body), headers: req.headers });
      return answer(res, 202, { status: 'OK' });
    }
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      this.initErrors.push(parse(body));
      this.abandon('the function failed to initialise');
      return answer(res, 202, { status: 'OK' });
    }
    answer(res, 404, { errorMessage: `no route ${req.method} ${url}`, errorType: 'NotFound' });
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
