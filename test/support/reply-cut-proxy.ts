/**
 * A loopback TCP proxy in front of a MongoDB-wire server that can cut a connection the way a
 * network drop does: `cut` — the command reached the server and ran, its reply never reaches
 * the client (the connection is reset instead); `drop` — the connection is reset before the
 * command is forwarded, so the server never sees it. One-shot rules, matched in order on the
 * bytes of a request: `cut` resets that connection when the request is answered, `drop` resets
 * it at once (the request is not forwarded); a function
 * runs (and is awaited) before the request is forwarded — a competing write placed exactly
 * between a client's read and its write. `fail500` (HTTP servers, e.g. S3) forwards the request
 * and, once the server has answered it, replies `500 InternalError` instead of the server's
 * answer and closes the connection — a 5xx after the server applied the request, which the AWS
 * SDK retries. Every other request is forwarded as is.
 * (`packages/connections/test/support/proxy.ts` resets or blackholes every connection at once,
 * by time; this cut has to land after one chosen command, which timing cannot place.)
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ReplyCutProxy {
  port: number;
  /** Adds a one-shot rule for the next request containing `pattern` (after the earlier rules fired). */
  on(pattern: string, action: Action): void;
  /** Connections cut (or dropped) so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

/**
 * `cut`: forward, then reset instead of replying; `drop`: reset without forwarding; `fail500`:
 * forward, then answer HTTP 500 (an S3 `InternalError`) instead of the server's reply and close;
 * a function: run it, then forward.
 */
export type Action = 'cut' | 'drop' | 'fail500' | (() => Promise<void>);

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';
const HTTP_500 = `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(INTERNAL_ERROR)}\r\nConnection: close\r\n\r\n${INTERNAL_ERROR}`;

export async function startReplyCutProxy(targetPort: number): Promise<ReplyCutProxy> {
  const sockets = new Set<Socket>();
  const rules: Array<{ pattern: Buffer; action: Action }> = [];
  let cuts = 0;
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    let cutOnReply = false;
    let failOnReply: boolean | 'answered' = false;
    // Requests are forwarded in order, each after the rule it matched (if any) has run.
    let forwarding = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const rule = rules[0]?.pattern && chunk.includes(rules[0].pattern) ? rules.shift() : undefined;
      forwarding = forwarding.then(async () => {
        if (rule?.action === 'drop') {
          cuts++;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (rule?.action === 'cut') cutOnReply = true;
        else if (rule?.action === 'fail500') failOnReply = true;
        else if (rule) await rule.action();
        upstream.write(chunk);
      });
    });
    upstream.on('data', (chunk: Buffer) => {
      if (failOnReply === 'answered') return; // the rest of the server's reply, dropped
      if (failOnReply) {
        failOnReply = 'answered';
        cuts++;
        // The connection closes once the 500 is flushed ('close' → drop, below).
        client.end(HTTP_500);
        return;
      }
      if (!cutOnReply) return void client.write(chunk);
      cuts++;
      client.resetAndDestroy();
      upstream.destroy();
    });
    const drop = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
  return {
    port: address.port,
    on(pattern, action) {
      rules.push({ pattern: Buffer.from(pattern, 'utf8'), action });
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
